"""``python -m bot.rasa_server run ...``: Rasa's command line, serving on asyncio's event loop.

Rasa 3.6 serves on uvloop: Sanic installs it, and aiogram (imported with Rasa's Telegram channel)
sets uvloop's event loop policy when it is imported. uvloop's libuv accepts one new connection
per turn of the event loop, and under load one turn of the Rasa server runs the next step of
every turn in progress (about 250 ms at 200 shoppers on two cores). New connections were then
accepted at about four a second: a burst of new shoppers waited in the listen queue (up to 124
connections, `ss`; one `accept4` per `epoll_pwait`, `strace`) and got their first reply after
20-60 s, while shoppers already connected were answered in 3 s. asyncio's loop accepts every
waiting connection when the listening socket is ready. Measured in
``docs/benchmarks/2026-12-06/throughput-asyncio/``: the same messages per second, a greeting's p95 at
200 shoppers 33 s -> 1.6 s.

Rasa has the switch — ``rasa.core.run.configure_app(use_uvloop=False)`` turns off Sanic's uvloop
and puts back asyncio's policy — but its command line never passes it; :func:`install` does.

The server also parses the messages that wait together in one pass of the NLU graph
(:mod:`bot.nlu_batching`, ``SHOPBOT_NLU_BATCH``), calls the action server over kept-alive
connections (:mod:`bot.action_endpoint`), closed when the server stops, keeps its loaded
model out of the garbage collector's scans once it has started (:mod:`core.heap`), and lets its
policies share one replay of the conversation, continued from prediction to prediction
(:mod:`bot.policy_states`), and copies trackers from their state instead of replaying their events
(:mod:`bot.tracker_copy`; both ``SHOPBOT_SHARED_STATES``).
"""

from __future__ import annotations

import functools
from typing import Any


def install() -> None:
    """Make ``rasa.core.run.configure_app`` always build the app for asyncio's loop (idempotent).

    The wrapper keeps ``configure_app``'s signature (``functools.wraps``): Rasa passes it only the
    keyword arguments its signature names.
    """
    import rasa.core.run

    configure = rasa.core.run.configure_app
    if getattr(configure, "shopbot_asyncio_loop", False):
        return

    @functools.wraps(configure)
    def on_asyncio_loop(*args: Any, **kwargs: Any) -> Any:
        kwargs["use_uvloop"] = False
        app = configure(*args, **kwargs)
        app.register_listener(_freeze_loaded_heap, "after_server_start")
        app.register_listener(_close_action_sessions, "after_server_stop")
        return app

    on_asyncio_loop.shopbot_asyncio_loop = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = on_asyncio_loop


async def _freeze_loaded_heap(app: Any, loop: Any) -> None:
    """Once the model is loaded (Rasa loads it before the server starts): keep it out of the
    garbage collector's scans (:mod:`core.heap`)."""
    from core.heap import freeze_heap

    freeze_heap("Rasa server")


async def _close_action_sessions(app: Any, loop: Any) -> None:
    from bot import action_endpoint

    await action_endpoint.close_all()


def main() -> None:
    """``python -m rasa`` with :func:`install` applied first, the NLU parsing messages that
    wait together in one pass (:mod:`bot.nlu_batching`), and a pooled action endpoint
    (:mod:`bot.action_endpoint`)."""
    from bot import action_endpoint, nlu_batching, policy_states, tracker_copy
    from core.settings import Settings

    install()
    nlu_batching.install()
    action_endpoint.install()
    if Settings().shared_states:
        policy_states.install()
        tracker_copy.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
