"""The "Knowledge generation" benchmark section runs end to end in quick mode."""

from __future__ import annotations

from pathlib import Path

from training.bench.knowledge_generation import (
    PLOT_FILE,
    TITLE,
    _quick_setup,
    passage_only,
    quality_markdown,
    run_section,
)
from training.bench.report import BenchContext

ROOT = Path(__file__).resolve().parents[2].parent


def test_quick_section(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, project_root=ROOT, shared_data=None, quick=True)
    section = run_section(ctx)
    assert section.title == TITLE
    assert section.plots == [PLOT_FILE]
    assert (tmp_path / PLOT_FILE).stat().st_size > 0
    assert "decode tokens/s" in section.markdown and "| total |" in section.markdown
    assert section.numbers["generation_tokens_per_s_cpu"] > 0
    assert 0 < section.numbers["answer_latency_ms_p50"] <= section.numbers["answer_latency_ms_p95"]


def test_the_passage_only_baseline_never_generates_and_leaves_the_pipeline_alone(
    tmp_path: Path,
) -> None:
    generator, pipeline = _quick_setup(tmp_path, ROOT)
    baseline = passage_only(pipeline)
    for question in ("How much is the Guillow Airplane Design Studio?", "Do you ship abroad?"):
        answer = baseline.answer(question)
        assert answer.outcome in ("passage", "unknown")
        assert answer.outcome == "unknown" or "Sources:" in answer.text
    assert pipeline.generator is generator and baseline.retriever is pipeline.retriever


def _record(kind: str, outcome: str, correct: bool) -> dict[str, object]:
    return {
        "type": kind, "split": "seen", "outcome": outcome, "correct": correct, "doc_id": "d",
        "unsupported": [], "citation_correct": True, "retrieved": True, "completion": "",
        "verifier_rejected": False, "latency_ms": {"total": 5.0},
    }  # fmt: skip


def _metrics(outcomes: list[tuple[str, str, bool]]) -> dict[str, object]:
    from training.eval_answers import summarise

    return summarise([_record(*o) for o in outcomes])


def test_quality_table_puts_the_baseline_beside_the_generator() -> None:
    generated = _metrics([("price", "generated", True), ("unknown", "unknown", True)])
    baseline = _metrics([("price", "passage", True), ("unknown", "unknown", True)])
    table = quality_markdown(generated, baseline)
    assert "| measure | passage only (baseline) | generator | target |" in table
    row = next(r for r in table.splitlines() if r.startswith("| generated replies, questions"))
    assert row.split("|")[2:5] == [" 0.0% ", " 100.0% ", " >= 80% "]
    assert "| measure | generator | target |" in quality_markdown(generated)
