"""The agent console: a web application of its own (Starlette on uvicorn) where support agents
sign in; the handoff queue and the review views build on it.

Decision record: ``docs/decisions/010-agent-console.md``. Start it with ``python -m bot.console``
(``shopbot run`` does); manage agents with ``shopbot agents``.
"""
