"""The "Indexing" benchmark section's timing and configurations (the real run needs MiniLM)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.bench.indexing import BASELINE, CONFIGS, interleaved_throughput
from training.bench.run import SECTIONS


class Recorder:
    """An embedder double that logs the order of its calls on a shared list."""

    def __init__(self, name: str, log: list[tuple[str, int]]) -> None:
        self.name = name
        self.log = log

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.log.append((self.name, len(texts)))
        return np.zeros((len(texts), 4), dtype=np.float32)


def test_configurations_run_interleaved_over_the_same_texts() -> None:
    log: list[tuple[str, int]] = []
    embedders = {"a": Recorder("a", log), "b": Recorder("b", log)}
    ticks = iter(range(100))
    rates = interleaved_throughput(embedders, [f"t{i}" for i in range(10)], 2, lambda: next(ticks))
    assert log == [("a", 5), ("b", 5), ("a", 5), ("b", 5)]
    # Each timed call took one tick: 10 texts in 2 ticks per embedder.
    assert rates == {"a": 5.0, "b": 5.0}


def test_section_is_registered_and_measures_the_baseline_first() -> None:
    assert SECTIONS["indexing"] == "training.bench.indexing"
    assert CONFIGS[0] == BASELINE and BASELINE.variant == "torch"
    assert {c.variant for c in CONFIGS} == {"torch", "onnx", "onnx-int8"}
    assert len({c.slug for c in CONFIGS}) == len(CONFIGS)
