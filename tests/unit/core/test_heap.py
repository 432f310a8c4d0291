"""``core.heap.freeze_heap``: the loaded objects leave the collector's scans, unless switched off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from core.heap import freeze_heap


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """The test process's heap as it was: frozen objects go back to the oldest generation."""
    yield
    gc.unfreeze()


def test_objects_alive_at_the_freeze_are_no_longer_scanned() -> None:
    loaded = [{"weights": [float(i)]} for i in range(10_000)]  # a model's worth of containers
    assert gc.is_tracked(loaded[0])
    frozen = freeze_heap("test server")
    # Frozen objects that die later leave the count (freeze_heap's own temporaries, once it
    # returns); nothing new joins it.
    assert frozen >= gc.get_freeze_count() >= len(loaded)
    new = [{"turn": 1}]
    assert not any(obj is loaded for obj in gc.get_objects(generation=2))
    assert any(obj is new for obj in gc.get_objects())  # what comes later is still scanned


def test_garbage_cycles_are_collected_before_the_freeze() -> None:
    class Node:
        other: object

    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b  # an unreachable cycle: only the collector frees it
    freeze_heap("test server")
    assert not any(isinstance(obj, Node) for obj in gc.get_objects())
    assert gc.get_freeze_count() > 0


def test_switched_off_it_leaves_the_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_GC_FREEZE", "off")
    assert freeze_heap("baseline server") == 0
    assert gc.get_freeze_count() == 0
