"""``python -m bot.demo_store``: serve the demo store page."""

import sys

from bot.demo_store.server import main

if __name__ == "__main__":
    sys.exit(main())
