"""``shopbot``: one command line for everything a store owner or developer runs.

Each subcommand lives in the module that implements it (a ``main(argv) -> int``); this file only
dispatches, so ``shopbot --help`` stays fast (nothing heavy is imported until a command runs).
"""

from __future__ import annotations

import importlib
import os
import sys

from core.logging_setup import configure_logging

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("training.prepare", "build the demo store data, order database and NLU data"),
    "train": ("training.train", "train every model and build the index for a preset"),
    "train-rasa": ("training.train_rasa", "train the Rasa model (NLU + dialogue)"),
    "train-intent": ("training.train_intent", "fine-tune a BERT intent classifier on CSV data"),
    "train-sentiment": (
        "training.train_sentiment",
        "fine-tune a BERT sentiment classifier on CSV data",
    ),
    "train-generator": ("training.train_generator", "train the GPT answer generator"),
    "train-faq-matcher": (
        "training.train_faq_matcher",
        "fine-tune MiniLM on the FAQ's phrasings to find the entry a question asks",
    ),
    "faq-intents": (
        "training.faq_intents",
        "record the intent the trained NLU gives each FAQ entry's phrasings",
    ),
    "index": ("training.build_index", "build the FAISS + BM25 index over the catalog and FAQ"),
    "run": ("bot.runner", "start the Rasa server and the action server on localhost"),
    "telegram": (
        "bot.channels.telegram_cli",
        "Telegram: relay updates by polling, set the webhook, make deep-link codes",
    ),
    "eval": (
        "training.evaluate",
        "evaluate the Rasa model: NLU on the held-out split and test stories",
    ),
    "prepare-retrieval-eval": (
        "training.prepare_retrieval_eval",
        "build a retrieval test set (docs, queries, qrels) from the catalog and FAQ",
    ),
    "eval-retrieval": ("training.eval_retrieval", "evaluate dense, BM25 and hybrid retrieval"),
    "eval-answers": ("training.eval_answers", "evaluate grounded answers on held-out questions"),
    "describe": (
        "knowledge.describe_cli",
        "write product descriptions from their attributes (verified), as JSONL or CSV",
    ),
    "eval-describe": (
        "training.eval_describe",
        "evaluate generated product descriptions on held-out products against a template",
    ),
    "bench": ("training.bench.run", "run the benchmarks and write bench/out/report.md"),
    "agents": ("bot.console.agents_cli", "add, list and disable agent console accounts"),
    "corrections": (
        "training.export_corrections",
        "export corrections accepted in the agent console as NLU and FAQ data",
    ),
    "eval-shopper": (
        "training.eval_shopper",
        "evaluate intents, FAQ retrieval and form answers on shoppers' own words",
    ),
    "calibrate-open-questions": (
        "training.calibrate_open_questions",
        "measure the relevance an open question's best passage needs to be answered",
    ),
    "retrain": (
        "training.retrain",
        "retrain the Rasa model with accepted corrections, behind a held-out quality gate",
    ),
    "migrate": ("bot.storage.migrate", "upgrade ShopBot's own database to the newest migration"),
    "retention": (
        "bot.privacy.retention",
        "delete or anonymise conversations older than the retention period (cron)",
    ),
    "forget": ("bot.privacy.forget", "erase one shopper's conversations and personal data"),
    "eval-masking": (
        "training.eval_masking",
        "measure the exports' masking: recall per kind of personal data, false positives",
    ),
}


def usage() -> str:
    """Return the top-level help text."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: shopbot <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `shopbot <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``shopbot <command> ...`` to the command's module."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"shopbot: unknown command {name!r}.\n\n{usage()}", file=sys.stderr)
        return 2
    configure_logging()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    module = importlib.import_module(COMMANDS[name][0])
    result = module.main(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
