"""``shopbot corrections export``: accepted console corrections as training data.

Writes, into a folder outside the tracked sources (default ``var/corrections/``):

* ``nlu_corrections.yml``: Rasa 3.1 NLU, one ``- intent:`` block per intent; each example is a
  ``text`` with ``metadata`` naming its conversation and correction (Rasa's ``examples: |`` block
  scalar cannot hold comments, so the examples use the list form), preceded by a YAML comment
  ``# conversation <cid>, correction <id>``. Entities use the ``[value](entity)`` annotation.
* ``faq_additions.csv``: ``question,answer,conversation_id,correction_id`` for accepted answer
  corrections marked as catalog/FAQ facts.

Duplicates (same normalised text, same intent) are written once. Conflicts (the same text under
different intents) keep the newest accepted correction and report the rest; a text the training
data (``bot/data/nlu/**/*.yml``) already has under another intent is reported and not written, so
``rasa data validate`` stays clean.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.storage.corrections import Correction, CorrectionStore
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from core.settings import Settings
from training.nlu.rasa_annotations import parse_rasa_annotation

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAINING_DATA = REPO_ROOT / "bot" / "data" / "nlu"
NLU_FILE = "nlu_corrections.yml"
FAQ_FILE = "faq_additions.csv"
HEADER = (
    "# Written by `shopbot corrections export` from corrections accepted in the agent console;\n"
    "# do not edit (correct in the console and export again).\n"
)
# Rasa reads [x](y) and [x]{...} as entities: brackets and braces in shopper text become
# parentheses; line breaks and tabs become spaces (same length, so entity offsets still hold).
_SAFE = str.maketrans({"[": "(", "]": ")", "{": "(", "}": ")", "\t": " ", "\n": " ", "\r": " "})


def normalise(text: str) -> str:
    """The key duplicates and conflicts are found by: case and whitespace ignored."""
    return " ".join(text.translate(_SAFE).lower().split())


def annotate(correction: Correction) -> str:
    """The corrected text in Rasa's annotation: ``[482913](order_number)``; an entity whose value
    differs from its words (a synonym) as ``[blue mug]{"entity": "product", "value": "B0A1"}``."""
    text = correction.text
    safe = text.translate(_SAFE)
    out: list[str] = []
    position = 0
    for span in sorted(correction.entities, key=lambda s: int(s["start"])):
        start, end, entity = int(span["start"]), int(span["end"]), str(span["entity"])
        words = safe[start:end]
        value = str(span.get("value") or text[start:end])
        out.append(safe[position:start])
        if value == text[start:end]:
            out.append(f"[{words}]({entity})")
        else:
            out.append(
                f"[{words}]" + json.dumps({"entity": entity, "value": value.translate(_SAFE)})
            )
        position = end
    out.append(safe[position:])
    return " ".join("".join(out).split())


def training_intents(directory: Path = TRAINING_DATA) -> dict[str, set[str]]:
    """Normalised text -> the intents it is an example of, over ``directory``'s YAML files."""
    known: dict[str, set[str]] = {}
    for path in sorted(directory.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for section in data.values() if isinstance(data, dict) else ():
            for block in section if isinstance(section, list) else ():
                if not isinstance(block, dict) or "intent" not in block:
                    continue
                for line in str(block.get("examples") or "").splitlines():
                    line = line.strip()
                    if line.startswith("-"):
                        text, _ = parse_rasa_annotation(line[1:].strip())
                        known.setdefault(normalise(text), set()).add(str(block["intent"]))
    return known


@dataclass
class ExportReport:
    """What an export wrote and what it left out, and why."""

    examples: list[Correction] = field(default_factory=list)
    faq_rows: list[Correction] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The lines ``shopbot corrections export`` prints."""
        lines = [
            f"{len(self.examples)} NLU examples, {len(self.faq_rows)} FAQ rows written; "
            f"{len(self.duplicates)} duplicates, {len(self.conflicts)} conflicts."
        ]
        lines += [f"duplicate: {line}" for line in self.duplicates]
        lines += [f"conflict: {line}" for line in self.conflicts]
        return "\n".join(lines)


def _source(c: Correction) -> str:
    return f"conversation {' '.join(c.conversation_id.translate(_SAFE).split())}, correction {c.id}"


def _newest_wins(
    group: Sequence[Correction], same: str, report: ExportReport, what: str
) -> Correction:
    """The last (newest accepted) of ``group``; the others are reported as duplicates when they
    agree with it on ``same``, as conflicts otherwise."""
    winner = group[-1]
    for loser in group[:-1]:
        if getattr(loser, same) == getattr(winner, same):
            report.duplicates.append(f"{_source(loser)}: same {what} as correction {winner.id}")
        else:
            report.conflicts.append(
                f"{_source(loser)}: {what} {getattr(loser, same)!r} lost to the newer correction "
                f"{winner.id} ({getattr(winner, same)!r}) for {winner.text[:80]!r}"
            )
    return winner


def select_examples(
    accepted: Iterable[Correction], known: dict[str, set[str]], report: ExportReport
) -> None:
    """Fill ``report.examples``/``faq_rows`` from ``accepted`` (oldest accepted first)."""
    by_text: dict[str, list[Correction]] = {}
    by_question: dict[str, list[Correction]] = {}
    for c in accepted:
        if c.kind == "intent" and c.intent:
            by_text.setdefault(normalise(c.text), []).append(c)
        elif c.kind == "answer" and c.is_fact and c.answer:
            by_question.setdefault(normalise(c.question or ""), []).append(c)
    for key, group in by_text.items():
        winner = _newest_wins(group, "intent", report, "intent")
        existing = known.get(key, set())
        if winner.intent in existing:
            report.duplicates.append(f"{_source(winner)}: already in the training data")
        elif existing:
            report.conflicts.append(
                f"{_source(winner)}: {winner.text[:80]!r} is in bot/data/nlu as "
                f"{', '.join(sorted(existing))}, not {winner.intent}; fix it there"
            )
        elif key:
            report.examples.append(winner)
    for key, group in by_question.items():
        if not key:
            report.conflicts.extend(f"{_source(c)}: no shopper question before it" for c in group)
            continue
        report.faq_rows.append(_newest_wins(group, "answer", report, "answer"))


def render_nlu(examples: Sequence[Correction]) -> str:
    """``examples`` as Rasa 3.1 NLU YAML (intents sorted; examples by correction id)."""
    lines = [HEADER.rstrip("\n"), 'version: "3.1"']
    if not examples:
        return "\n".join([*lines, "nlu: []"]) + "\n"
    lines.append("nlu:")
    for intent in sorted({str(c.intent) for c in examples}):
        lines += [f"- intent: {intent}", "  examples:"]
        for c in sorted((c for c in examples if c.intent == intent), key=lambda c: c.id):
            lines += [
                f"  # {_source(c)}",
                f"  - text: {json.dumps(annotate(c), ensure_ascii=False)}",
                "    metadata:",
                f"      conversation_id: {json.dumps(c.conversation_id, ensure_ascii=False)}",
                f"      correction_id: {c.id}",
            ]
    return "\n".join(lines) + "\n"


def render_faq(rows: Sequence[Correction]) -> str:
    """``rows`` as CSV: question, answer, conversation_id, correction_id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["question", "answer", "conversation_id", "correction_id"])
    for c in sorted(rows, key=lambda c: c.id):
        writer.writerow([c.question, c.answer, c.conversation_id, c.id])
    return buffer.getvalue()


def export(
    store: CorrectionStore, out_dir: Path, training_data: Path = TRAINING_DATA
) -> ExportReport:
    """Write the accepted corrections of ``store`` into ``out_dir``; return what was written."""
    report = ExportReport()
    select_examples(store.accepted(), training_intents(training_data), report)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / NLU_FILE).write_text(render_nlu(report.examples), encoding="utf-8")
    (out_dir / FAQ_FILE).write_text(render_faq(report.faq_rows), encoding="utf-8", newline="")
    logger.info("Exported corrections into %s", out_dir)
    return report


def build_parser() -> argparse.ArgumentParser:
    """``shopbot corrections ...``'s arguments."""
    parser = argparse.ArgumentParser(
        prog="shopbot corrections", description="Corrections made in the agent console."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "export", help="write accepted corrections as Rasa NLU YAML and FAQ CSV rows"
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write nlu_corrections.yml and faq_additions.csv into "
        "(default: SHOPBOT_CORRECTIONS_DIR, var/corrections under the project root)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``shopbot corrections export [--out DIR]``."""
    args = build_parser().parse_args(argv)
    settings = Settings()
    url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        out_dir = args.out or settings.corrections_path
        report = export(CorrectionStore(engine), out_dir)
    finally:
        engine.dispose()
    print(f"Wrote {out_dir / NLU_FILE} and {out_dir / FAQ_FILE}")
    print(report.summary())
    return 0
