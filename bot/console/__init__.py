"""The agent console: a web application of its own (Starlette on uvicorn) where support agents
sign in, see the live handoff queue, read conversations and take them over from the bot.

Sign-in and sessions: ``views``, ``access``, ``sessions``, ``csrf``. The handoff: ``payloads``
(queue JSON), ``conversation_views`` (lists, transcripts), ``handoff_views`` (claim, reply, hand
back, close), ``transcript`` (reads Rasa's tracker store), ``rasa_api`` (writes through Rasa's
HTTP API) and ``waiting`` (tells shoppers when no agent is online).

Decision record: ``docs/decisions/010-agent-console.md``. Start it with ``python -m bot.console``
(``shopbot run`` does); manage agents with ``shopbot agents``.
"""
