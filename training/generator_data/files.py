"""The files of the generator's training data (``var/generator/``): JSON lines writers and readers.

``write_dataset`` writes what ``prepare_generator`` builds; ``train_generator`` and ``eval-answers``
read it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from knowledge.asked_field import FIELD_QUESTIONS_FILE
from knowledge.passages import passage_from_dict, passage_to_dict
from knowledge.types import Passage
from training.generator_data.records import EvalQuestion, GeneratorDataset, QAExample


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_dataset(dataset: GeneratorDataset, out_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the dataset files (see the module docstring) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out_dir / "pretrain.jsonl", ({"text": t} for t in dataset.pretrain))
    _write_jsonl(
        out_dir / "passages.jsonl", (passage_to_dict(p) for p in dataset.passages.values())
    )
    _write_jsonl(out_dir / "finetune_train.jsonl", (asdict(e) for e in dataset.train))
    _write_jsonl(out_dir / "finetune_valid.jsonl", (asdict(e) for e in dataset.valid))
    _write_jsonl(out_dir / "eval_questions.jsonl", (asdict(q) for q in dataset.eval_questions))
    _write_jsonl(out_dir / "injection_eval.jsonl", dataset.injection_eval)
    (out_dir / "split.json").write_text(json.dumps(dataset.split, indent=2), encoding="utf-8")
    (out_dir / FIELD_QUESTIONS_FILE).write_text(
        json.dumps({"questions": dataset.field_questions}, indent=1, ensure_ascii=False),
        encoding="utf-8",
    )
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def read_passages(path: Path) -> dict[str, Passage]:
    """Read ``passages.jsonl`` into a dict by passage id."""
    return {row["id"]: passage_from_dict(row) for row in _read_jsonl(path)}


def read_examples(path: Path) -> list[QAExample]:
    """Read ``finetune_*.jsonl``."""
    return [QAExample(**row) for row in _read_jsonl(path)]


def read_eval_questions(path: Path) -> list[EvalQuestion]:
    """Read ``eval_questions.jsonl``."""
    return [EvalQuestion(**row) for row in _read_jsonl(path)]


def read_pretrain(path: Path) -> list[str]:
    """Read ``pretrain.jsonl``."""
    return [str(row["text"]) for row in _read_jsonl(path)]
