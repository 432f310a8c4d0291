"""Tests for training/eval_describe.py: held-out selection, the three systems side by side, the
report files — with a scripted generator on the demo catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalog.jsonl import write_catalog_jsonl
from tests.unit.knowledge.answer_doubles import ScriptedGenerator
from tests.unit.knowledge.describe_helpers import GUILLOW_ID, demo_products
from training.eval_describe import EvalDescribeArgs, held_out_products, main, run

LONGBOARD_ID = "4c69b61db1fc16e7013b43fc926e502d"
NO_DESCRIPTION_ID = "bc178f33a04dbccefa95b165f8b56830"


def write_store(tmp_path: Path) -> tuple[Path, Path]:
    catalog, split = tmp_path / "catalog.jsonl", tmp_path / "split.json"
    write_catalog_jsonl(demo_products(), catalog)
    held = [GUILLOW_ID, NO_DESCRIPTION_ID, LONGBOARD_ID]
    split.write_text(json.dumps({"held_out_products": held}), encoding="utf-8")
    return catalog, split


def test_held_out_products_in_split_order_with_a_description_or_without(tmp_path: Path) -> None:
    _, split = write_store(tmp_path)
    chosen = held_out_products(demo_products(), split, 5)
    assert [p.id for p in chosen] == [GUILLOW_ID, NO_DESCRIPTION_ID, LONGBOARD_ID]
    assert [p.id for p in held_out_products(demo_products(), split, 1)] == [GUILLOW_ID]
    with pytest.raises(FileNotFoundError, match="--only generator"):
        held_out_products(demo_products(), tmp_path / "none.json", 5)


def test_generator_and_template_side_by_side(tmp_path: Path) -> None:
    catalog, split = write_store(tmp_path)
    draft = "The Guillow Airplane Design Studio is a balsa kit. Experiment with different designs."
    args = EvalDescribeArgs(
        preset="tiny", catalog=str(catalog), split=str(split), out=str(tmp_path / "out")
    )
    metrics = run(args, ScriptedGenerator(draft))
    generator, drafts, template = (
        metrics["generator"], metrics["generator drafts"], metrics["template"]
    )  # fmt: skip
    assert generator["products"] == drafts["products"] == template["products"] == 3
    # ROUGE-L needs a real description: the product without one is described, not scored on it.
    assert generator["with_real_description"] == template["with_real_description"] == 2
    # The draft names the Guillow: accepted for it, rejected for the other two.
    assert generator["shown"] == 1 and generator["with_unsupported_fact"] == 0
    assert drafts["shown"] == 3 and drafts["with_unsupported_fact"] == 2
    assert template["shown"] == 3 and template["with_unsupported_fact"] == 0
    assert template["attribute_coverage"] > 0.8 > generator["attribute_coverage"]
    assert 0 < generator["rouge_l"] < drafts["rouge_l"] + 1e-9
    assert drafts["distinct_2"] == pytest.approx(1 / 3)  # the same draft three times
    out = tmp_path / "out"
    report = (out / "report.md").read_text()
    assert "| attribute coverage |" in report and "template" in report
    records = [json.loads(line) for line in (out / "descriptions.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["accepted", "rejected", "rejected"]
    assert json.loads((out / "metrics.json").read_text())["args"]["preset"] == "tiny"


def test_bad_arguments_exit_with_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--preset", "tiny", "--products", "0"])
    assert "--products must be greater than 0" in capsys.readouterr().err
