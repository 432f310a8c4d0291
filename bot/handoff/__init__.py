"""Live handoff on the Rasa server's side: the event broker that keeps the agent queue current.

The dialogue pauses itself (``actions/handoff.py`` returns ``ConversationPaused``); the broker here
turns tracker events into queue rows; the agent console (``bot/console``) claims, talks and hands
back through Rasa's HTTP API. Design: docs/decisions/011-live-handoff.md.
"""
