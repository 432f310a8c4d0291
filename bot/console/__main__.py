"""``python -m bot.console``: serve the agent console (see :mod:`bot.console.server`)."""

from bot.console.server import main

raise SystemExit(main())
