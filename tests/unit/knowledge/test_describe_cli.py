"""Tests for knowledge/describe_cli.py: argument handling, product selection, the JSONL/CSV
output, and one run on the demo catalog with a scripted generator."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from knowledge.catalog.jsonl import write_catalog_jsonl
from knowledge.describe import DescriptionResult
from knowledge.describe_cli import (
    build_parser,
    dump_rows,
    main,
    parse,
    run,
    select_products,
    write_rows,
)
from tests.unit.knowledge.answer_doubles import ScriptedGenerator
from tests.unit.knowledge.describe_helpers import GUILLOW_ID, demo_products

LONGBOARD_ID = "4c69b61db1fc16e7013b43fc926e502d"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "d.jsonl"], "one of the arguments --product --missing --all is required"),
        (["--all", "--missing", "--out", "d.jsonl"], "not allowed with argument"),
        (["--all", "--out", "d.txt"], "--out must end in .jsonl or .csv"),
        (["--all", "--limit", "0", "--out", "d.csv"], "--limit must be greater than 0"),
        (["--all", "--out", "d.csv", "--fallback", "guess"], "invalid choice: 'guess'"),
        (["--all"], "the following arguments are required: --out"),
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_products_repeat_and_defaults() -> None:
    args = parse(["--product", "a", "--product", "b", "--out", "x.CSV"])
    assert args.product == ["a", "b"] and not args.missing and not args.all
    assert args.fallback == "none" and args.limit is None
    assert "--missing" in build_parser().format_help()


def test_selection_by_id_missing_and_limit() -> None:
    catalog = demo_products()
    chosen = select_products(catalog, [LONGBOARD_ID, GUILLOW_ID, LONGBOARD_ID])
    assert [p.id for p in chosen] == [LONGBOARD_ID, GUILLOW_ID]
    missing = select_products(catalog, missing=True)
    assert len(missing) == 14 and all(not p.description.strip() for p in missing)
    assert len(select_products(catalog, limit=3)) == 3
    with pytest.raises(ValueError, match="--product 'nope' is not in the catalog"):
        select_products(catalog, ["nope"])


ROWS = [
    DescriptionResult(GUILLOW_ID, "Guillow", "accepted", "A kit.", "generator", "A kit."),
    DescriptionResult(
        LONGBOARD_ID, "DB", "rejected", "", "", "Costs $9.", ["price $9", "name 'X Y'"]
    ),
]


def test_jsonl_and_csv_outputs_hold_every_field(tmp_path: Path) -> None:
    lines = write_rows(ROWS, tmp_path / "out" / "d.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in ROWS]
    with open(write_rows(ROWS, tmp_path / "d.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["status"] == "accepted" and rows[0]["description"] == "A kit."
    assert rows[1]["unsupported"] == "price $9; name 'X Y'" and rows[1]["description"] == ""
    out = io.StringIO(newline="")
    dump_rows(ROWS, out, "csv")  # the console's download writes the same bytes
    assert out.getvalue() == (tmp_path / "d.csv").read_bytes().decode()
    with pytest.raises(ValueError, match="fmt must be jsonl or csv"):
        dump_rows(ROWS, out, "xlsx")


def test_run_describes_the_selected_products_of_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPBOT_HOME", str(tmp_path))
    write_catalog_jsonl(demo_products(), tmp_path / "catalog.jsonl")
    draft = "The Guillow Airplane Design Studio is a kit to build and fly. Learn about flight."
    args = parse(
        ["--product", GUILLOW_ID, "--product", LONGBOARD_ID, "--catalog", "catalog.jsonl",
         "--out", "d.jsonl", "--fallback", "template"]
    )  # fmt: skip
    rows = run(args, ScriptedGenerator(draft))
    assert [(r.product_id, r.status) for r in rows] == [
        (GUILLOW_ID, "accepted"),  # every name in the draft is the Guillow's
        (LONGBOARD_ID, "template"),  # "Guillow Airplane Design Studio" is not the longboard's
    ]
    written = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert [w["status"] for w in written] == ["accepted", "template"]
    assert written[1]["description"].startswith("The DB Longboards CoreFlex Crossbow")


def test_main_reports_a_missing_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_HOME", str(tmp_path))
    assert main(["--all", "--catalog", "none.jsonl", "--out", "d.jsonl"]) == 1
    assert not (tmp_path / "d.jsonl").exists()


def test_shopbot_dispatches_describe_and_eval_describe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib
    import inspect

    from bot.cli import COMMANDS
    from bot.cli import main as shopbot

    for name in ("describe", "eval-describe"):
        module = importlib.import_module(COMMANDS[name][0])
        assert list(inspect.signature(module.main).parameters) == ["argv"]
    monkeypatch.setenv("SHOPBOT_HOME", str(tmp_path))
    assert shopbot(["describe", "--missing", "--catalog", "none.jsonl", "--out", "d.csv"]) == 1
    with pytest.raises(SystemExit):
        shopbot(["describe", "--out", "d.csv"])
    assert "one of the arguments --product --missing --all is required" in capsys.readouterr().err
