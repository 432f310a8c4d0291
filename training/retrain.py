"""``shopbot retrain``: fold agents' corrections into the Rasa model, behind a quality gate.

1. Export the corrections admins accepted (``shopbot corrections export``) into
   ``var/corrections/``; duplicates and conflicts are resolved and reported there.
2. Train a candidate Rasa model for the preset on the project's NLU data plus those examples
   (the intent classifier always trains on them and repeats them: ``correction_repeat``).
3. Evaluate the served model and the candidate on the same messages: the held-out test split
   (``var/nlu/test.yml``, written by ``shopbot prepare``) and every corrected message.
4. The gate: the candidate replaces the served model only if its held-out accuracy is at most
   ``--margin`` below the served model's. The report (JSON + markdown) is printed and saved under
   ``var/retrain/<run>/``; a run is recorded in the ``retrain_runs`` table and the audit log, so
   the console shows it. ``--reload`` then asks the running Rasa server to load the new model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.engine import Engine
from tqdm import tqdm

from bot.storage.audit import AuditLog
from bot.storage.clock import utcnow
from bot.storage.corrections import CorrectionStore
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from bot.storage.retrain_runs import RetrainRuns
from core.settings import Settings
from training.classification_metrics import accuracy_and_macro_f1
from training.export_corrections import NLU_FILE, ExportReport, export
from training.train_rasa import PRESETS, ROOT, train_rasa

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    """One message with its gold intent (and where it came from)."""

    text: str
    intent: str
    source: str = ""


@dataclass
class Scores:
    """One model's results on one set of examples."""

    examples: int
    accuracy: float
    macro_f1: float
    errors: list[dict[str, str]] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)  # per example (not in the saved report)


@dataclass
class GateReport:
    """What ``shopbot retrain`` measured and decided."""

    preset: str
    margin: float
    corrections: int
    faq_rows: int
    duplicates: list[str]
    conflicts: list[str]
    served: dict[str, Scores]
    candidate: dict[str, Scores]
    heldout_change: float
    accepted: bool
    reason: str
    served_model: str
    candidate_model: str
    seconds: dict[str, float]
    heldout_sample: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (without the per-message predictions)."""
        data = asdict(self)
        for side in ("served", "candidate"):
            for scores in data[side].values():
                scores.pop("predicted", None)
        return data

    def markdown(self) -> str:
        """A short report for people (printed, saved, shown in the console)."""
        verdict = "ACCEPTED: the candidate now serves" if self.accepted else "REFUSED"
        lines = [
            f"# Retrain report (preset {self.preset})",
            "",
            f"**{verdict}** — {self.reason}",
            "",
            f"Corrections exported: {self.corrections} NLU examples, {self.faq_rows} FAQ rows; "
            f"{len(self.duplicates)} duplicates, {len(self.conflicts)} conflicts.",
            "",
            "| set | examples | served acc | candidate acc | served macro-F1 | candidate macro-F1 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, served in self.served.items():
            cand = self.candidate[name]
            lines.append(
                f"| {name} | {served.examples} | {served.accuracy:.4f} | {cand.accuracy:.4f} | "
                f"{served.macro_f1:.4f} | {cand.macro_f1:.4f} |"
            )
        sample = f" (a stratified sample of {self.heldout_sample})" if self.heldout_sample else ""
        lines += [
            "",
            f"Held-out accuracy change: {self.heldout_change:+.4f} (gate: no drop larger than "
            f"{self.margin:.4f}){sample}.",
        ]
        still_wrong = self.candidate.get("corrections")
        if still_wrong and still_wrong.errors:
            lines += ["", "Corrected messages the candidate still misreads:"]
            lines += [
                f"- {e['text']!r}: {e['predicted']} (gold {e['gold']})" for e in still_wrong.errors
            ]
        for conflict in self.conflicts:
            lines.append(f"- conflict: {conflict}")
        lines += [
            "",
            f"Served model: `{self.served_model}`; candidate: `{self.candidate_model}`.",
            "Time: " + ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items()) + ".",
        ]
        return "\n".join(lines) + "\n"


def read_nlu_examples(path: Path, source: str = "") -> list[Example]:
    """The intent examples of a Rasa NLU YAML file (block-scalar and list forms; entity
    annotations ``[value](entity)`` reduced to their text)."""
    from training.nlu.rasa_annotations import parse_rasa_annotation

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in (
        data.get("nlu") or data.get("nlu_source") or []
    ):  # nlu_source: prepare_nlu.py input
        intent = block.get("intent")
        raw = block.get("examples")
        if not intent or not raw:
            continue
        if isinstance(raw, str):
            items = [line[2:] for line in raw.splitlines() if line.startswith("- ")]
        else:
            items = [str(item["text"]) for item in raw if isinstance(item, dict)]
        for item in items:
            text = parse_rasa_annotation(item)[0]
            if text.strip():
                examples.append(Example(text, str(intent), source))
    return examples


def stratified_sample(examples: list[Example], size: int | None, seed: int = 42) -> list[Example]:
    """At most ``size`` examples, each intent keeping its share (all when ``size`` is None)."""
    if size is None or size >= len(examples):
        return examples
    rng = random.Random(seed)
    by_intent: dict[str, list[Example]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example)
    picked: list[Example] = []
    for intent in sorted(by_intent):
        group = by_intent[intent]
        take = max(1, round(size * len(group) / len(examples)))
        picked += rng.sample(group, min(take, len(group)))
    return picked


def evaluate_model(model: Path, sets: dict[str, list[Example]], label: str) -> dict[str, Scores]:
    """Parse every example of every set with the Rasa model at ``model`` (in this process)."""
    import structlog
    from rasa.core.agent import Agent

    # Rasa logs every parse at debug level through structlog: thousands of lines per evaluation.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    agent = Agent.load(str(model))

    async def parse_all(examples: list[Example]) -> list[str]:
        predicted: list[str] = []
        for example in tqdm(examples, desc=f"{label}", unit="msg", leave=False):
            parsed = await agent.parse_message(example.text)
            predicted.append(str((parsed.get("intent") or {}).get("name") or ""))
        return predicted

    scores: dict[str, Scores] = {}
    for name, examples in sets.items():
        predicted = asyncio.run(parse_all(examples)) if examples else []
        gold = [e.intent for e in examples]
        metrics = (
            accuracy_and_macro_f1(gold, predicted)
            if examples
            else {"accuracy": 1.0, "macro_f1": 1.0}
        )
        scores[name] = Scores(
            examples=len(examples),
            accuracy=metrics["accuracy"],
            macro_f1=metrics["macro_f1"],
            errors=[
                {"text": e.text, "gold": e.intent, "predicted": p}
                for e, p in zip(examples, predicted, strict=True)
                if p != e.intent
            ][: 50 if name != "corrections" else None],
            predicted=predicted,
        )
        logger.info(
            "%s on %s: accuracy %.4f, macro-F1 %.4f (%d messages)",
            label,
            name,
            scores[name].accuracy,
            scores[name].macro_f1,
            len(examples),
        )
    return scores


def decide(served: Scores, candidate: Scores, margin: float) -> tuple[bool, str]:
    """The gate: accept unless held-out accuracy drops by more than ``margin``."""
    change = candidate.accuracy - served.accuracy
    if change < -margin:
        return False, (
            f"held-out accuracy would drop by {-change:.4f} ({served.accuracy:.4f} → "
            f"{candidate.accuracy:.4f}), more than the allowed {margin:.4f}; the served model "
            "stays"
        )
    return True, (
        f"held-out accuracy {served.accuracy:.4f} → {candidate.accuracy:.4f} "
        f"(change {change:+.4f}, allowed drop {margin:.4f})"
    )


def install(candidate: Path, served: Path) -> Path:
    """Replace the served model with ``candidate`` (the old one kept as ``*.previous.tar.gz``)."""
    previous = served.with_name(served.name.replace(".tar.gz", ".previous.tar.gz"))
    if served.exists():
        shutil.copy2(served, previous)
    staging = served.with_name(served.name + ".new")
    shutil.copy2(candidate, staging)
    staging.replace(served)  # atomic on one filesystem: a server loading it never sees half
    logger.info("Installed %s as %s (previous kept as %s)", candidate, served, previous.name)
    return previous


def reload_served(rasa_url: str, token: str, model: Path) -> None:
    """Ask a running Rasa server to load ``model`` (``PUT /model``)."""
    reply = httpx.put(
        f"{rasa_url.rstrip('/')}/model",
        params={"token": token},
        json={"model_file": str(model)},
        timeout=300,
    )
    if reply.status_code >= 300:
        raise RuntimeError(f"Rasa at {rasa_url} answered {reply.status_code} to PUT /model")
    logger.info("Rasa at %s now serves %s", rasa_url, model)


@dataclass
class RetrainArgs:
    """``shopbot retrain``'s options."""

    preset: str
    margin: float = 0.01
    served_model: Path | None = None
    work_dir: Path | None = None
    heldout: Path | None = None
    heldout_sample: int | None = None
    reload: bool = False
    run_id: int | None = None
    root: Path = ROOT


def retrain(args: RetrainArgs, settings: Settings, engine: Engine) -> GateReport:
    """Export, train a candidate, evaluate both models, apply the gate; return the report."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    run_dir = args.work_dir or settings.retrain_dir / utcnow().strftime("%Y%m%dT%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    corrections_dir = settings.corrections_path
    exported: ExportReport = export(CorrectionStore(engine), corrections_dir)
    print(exported.summary())
    served_model = args.served_model or settings.rasa_model
    if not served_model.exists():
        raise FileNotFoundError(
            f"No served model at {served_model}: run `shopbot train --preset {args.preset}` first."
        )
    heldout_file = args.heldout or settings.var_dir / "nlu" / "test.yml"
    if not heldout_file.exists():
        raise FileNotFoundError(
            f"No held-out split at {heldout_file}: run `shopbot prepare --preset {args.preset}`."
        )
    seconds["export"] = time.monotonic() - started

    mark = time.monotonic()
    candidate = train_rasa(
        args.preset,
        root=args.root,
        force=True,
        out=run_dir / f"candidate-{args.preset}.tar.gz",
        corrections=corrections_dir / NLU_FILE,
    )
    seconds["train"] = time.monotonic() - mark

    sets = {
        "held-out": stratified_sample(
            read_nlu_examples(heldout_file, "held-out"), args.heldout_sample
        ),
        "corrections": read_nlu_examples(corrections_dir / NLU_FILE, "corrections"),
    }
    mark = time.monotonic()
    served_scores = evaluate_model(served_model, sets, "served")
    candidate_scores = evaluate_model(candidate, sets, "candidate")
    seconds["evaluate"] = time.monotonic() - mark
    accepted, reason = decide(served_scores["held-out"], candidate_scores["held-out"], args.margin)
    if accepted:
        install(candidate, served_model)
        if args.reload:
            reload_served(
                f"http://127.0.0.1:{settings.rasa_port}", settings.ensure_api_token(), served_model
            )
    seconds["total"] = time.monotonic() - started
    report = GateReport(
        preset=args.preset,
        margin=args.margin,
        corrections=len(exported.examples),
        faq_rows=len(exported.faq_rows),
        duplicates=exported.duplicates,
        conflicts=exported.conflicts,
        served=served_scores,
        candidate=candidate_scores,
        heldout_change=candidate_scores["held-out"].accuracy - served_scores["held-out"].accuracy,
        accepted=accepted,
        reason=reason,
        served_model=str(served_model),
        candidate_model=str(candidate),
        seconds=seconds,
        heldout_sample=args.heldout_sample,
    )
    (run_dir / "report.json").write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    (run_dir / "report.md").write_text(report.markdown(), encoding="utf-8")
    logger.info("Retrain report saved in %s", run_dir)
    return report


def build_parser() -> argparse.ArgumentParser:
    """``shopbot retrain``'s arguments."""
    parser = argparse.ArgumentParser(prog="shopbot retrain", description=__doc__)
    settings = Settings()
    parser.add_argument("--preset", choices=PRESETS, default=settings.preset)
    parser.add_argument(
        "--margin",
        type=float,
        default=settings.retrain_margin,
        help="largest held-out accuracy drop the candidate may have and still replace the "
        f"served model (default SHOPBOT_RETRAIN_MARGIN = {settings.retrain_margin})",
    )
    parser.add_argument("--served-model", type=Path, help="the model to compare and replace")
    parser.add_argument("--work-dir", type=Path, help="where the candidate and report go")
    parser.add_argument("--heldout", type=Path, help="held-out NLU YAML (default var/nlu/test.yml)")
    parser.add_argument(
        "--heldout-sample",
        type=int,
        default=settings.retrain_heldout_sample or None,
        help="evaluate on a stratified sample of this many held-out messages (default "
        "SHOPBOT_RETRAIN_HELDOUT_SAMPLE; unset: all)",
    )
    parser.add_argument(
        "--reload", action="store_true", help="make the running Rasa server load an accepted model"
    )
    parser.add_argument("--run-id", type=int, help=argparse.SUPPRESS)  # set by the console
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``shopbot retrain``: 0 when the candidate was accepted, 3 when the gate refused it."""
    ns = build_parser().parse_args(argv)
    args = RetrainArgs(
        preset=ns.preset,
        margin=ns.margin,
        served_model=ns.served_model,
        work_dir=ns.work_dir,
        heldout=ns.heldout,
        heldout_sample=ns.heldout_sample,
        reload=ns.reload,
        run_id=ns.run_id,
    )
    settings = Settings()
    if args.preset != settings.preset and ns.served_model is None:
        settings = Settings(preset=args.preset)
    logger.info("Retrain configuration: %s", {k: str(v) for k, v in vars(ns).items()})
    url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(url)
    engine = make_engine(url)
    runs = RetrainRuns(engine)
    run_id = args.run_id or runs.start(args.preset, requested_by=None)
    try:
        report = retrain(args, settings, engine)
    except Exception as exc:
        runs.finish(run_id, "failed", None, f"{type(exc).__name__}: {exc}")
        AuditLog(engine).record("retrain", None, "cli", args.preset, {"status": "failed"})
        engine.dispose()
        raise
    status = "accepted" if report.accepted else "refused"
    runs.finish(run_id, status, report.as_dict(), report.markdown())
    AuditLog(engine).record(
        "retrain",
        None,
        "cli",
        args.preset,
        {
            "status": status,
            "run_id": run_id,
            "heldout_change": round(report.heldout_change, 4),
            "corrections": report.corrections,
        },
    )
    engine.dispose()
    print(report.markdown())
    return 0 if report.accepted else 3
