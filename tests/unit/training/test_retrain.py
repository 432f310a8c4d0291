"""``shopbot retrain``'s parts: reading NLU examples, the stratified sample, the gate, installing
a model, the report; and the intent trainer pinning corrected rows into training."""

from __future__ import annotations

from pathlib import Path

from core.encoder_fit import pin_rows
from training.retrain import (
    Example,
    GateReport,
    Scores,
    decide,
    install,
    read_nlu_examples,
    stratified_sample,
)

NLU = """version: "3.1"
nlu:
- intent: check_refund_policy
  examples:
  # conversation c-1, correction 4
  - text: "are final sale things returnable?"
    metadata:
      conversation_id: "c-1"
      correction_id: 4
- intent: track_order
  examples: |
    - where is order [482913](order_number)
    - has my parcel shipped
"""


def test_reads_both_example_forms_without_annotations(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(NLU, encoding="utf-8")
    examples = read_nlu_examples(path, "x")
    assert [(e.text, e.intent) for e in examples] == [
        ("are final sale things returnable?", "check_refund_policy"),
        ("where is order 482913", "track_order"),
        ("has my parcel shipped", "track_order"),
    ]


def test_stratified_sample_keeps_every_intent_and_is_deterministic() -> None:
    examples = [Example(f"a{i}", "a") for i in range(90)] + [
        Example(f"b{i}", "b") for i in range(10)
    ]
    sample = stratified_sample(examples, 20, seed=3)
    assert sample == stratified_sample(examples, 20, seed=3)
    counts = {label: sum(e.intent == label for e in sample) for label in "ab"}
    assert counts == {"a": 18, "b": 2}
    assert stratified_sample(examples, None) == examples


def test_the_gate_refuses_a_drop_larger_than_the_margin() -> None:
    served = Scores(examples=100, accuracy=0.95, macro_f1=0.9)
    assert decide(served, Scores(100, 0.945, 0.9), 0.01)[0] is True
    assert decide(served, Scores(100, 0.96, 0.9), 0.0)[0] is True
    refused, reason = decide(served, Scores(100, 0.93, 0.9), 0.01)
    assert refused is False and "drop by 0.0200" in reason and "served model stays" in reason


def test_install_replaces_atomically_and_keeps_the_previous(tmp_path: Path) -> None:
    served = tmp_path / "shopbot-tiny.tar.gz"
    served.write_bytes(b"old")
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"new")
    previous = install(candidate, served)
    assert served.read_bytes() == b"new" and previous.read_bytes() == b"old"
    assert previous.name == "shopbot-tiny.previous.tar.gz"
    assert not list(tmp_path.glob("*.new"))


def test_report_names_the_verdict_and_what_is_still_misread() -> None:
    wrong = {"text": "my parcel never arrived", "gold": "track_order", "predicted": "complaint"}
    report = GateReport(
        preset="tiny",
        margin=0.01,
        corrections=2,
        faq_rows=0,
        duplicates=[],
        conflicts=["conversation c-2, correction 7: also under greet"],
        served={"held-out": Scores(400, 0.95, 0.9), "corrections": Scores(2, 0.0, 0.0)},
        candidate={
            "held-out": Scores(400, 0.90, 0.85),
            "corrections": Scores(2, 0.5, 0.5, [wrong]),
        },
        heldout_change=-0.05,
        accepted=False,
        reason="held-out accuracy would drop",
        served_model="m.tar.gz",
        candidate_model="c.tar.gz",
        seconds={"train": 70.0},
        heldout_sample=400,
    )
    text = report.markdown()
    assert "**REFUSED**" in text and "| held-out | 400 | 0.9500 | 0.9000 |" in text
    assert "'my parcel never arrived': complaint (gold track_order)" in text
    assert "conflict: conversation c-2" in text and "a stratified sample of 400" in text


def test_pinned_rows_always_train_and_repeat() -> None:
    train, heldout = pin_rows([0, 1, 2], [3, 4, 5], pinned=[4, 1], repeat=3)
    assert heldout == [3, 5]
    assert sorted(train) == [0, 1, 1, 1, 2, 4, 4, 4]
