"""The "Knowledge retrieval" benchmark section runs end to end in quick mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.bench.knowledge_retrieval import TITLE, mixture_vectors, recall_at_k, run_section
from training.bench.report import BenchContext

ROOT = Path(__file__).resolve().parents[3]


def test_mixture_vectors_are_clustered_unit_vectors() -> None:
    base, queries = mixture_vectors(3000, 20, d=64, seed=1)
    assert base.shape == (3000, 64) and queries.shape == (20, 64) and base.dtype == np.float32
    assert np.allclose(np.linalg.norm(base, axis=1), 1.0, atol=1e-5)
    # Clustered: a point's nearest neighbour is far closer than a random pair.
    sims = base[:200] @ base.T
    np.fill_diagonal(sims[:, :200], -1)
    assert sims.max(axis=1).mean() > 0.6 > abs(sims.mean())


def test_recall_at_k() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 2, 9], [5, 6, 7, 8]])
    assert recall_at_k(found, truth) == (3 / 4 + 1) / 2


def test_quick_section(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, project_root=ROOT, shared_data=None, quick=True)
    section = run_section(ctx)
    assert section.title == TITLE
    assert section.plots == ["knowledge_retrieval_latency.png"]
    assert (tmp_path / section.plots[0]).stat().st_size > 0
    assert "| demo |" in section.markdown and "hnsw" in section.markdown
    assert section.numbers["demo_hybrid_p50_ms"] > 0
    assert 0.0 <= section.numbers["flat_20k_recall@10"] <= 1.0
    assert not (ROOT / "var/bench/knowledge/demo-quick").exists()
