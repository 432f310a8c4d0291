"""``shopbot corrections export``: accepted corrections as Rasa NLU (read back by Rasa's loader)
and FAQ rows; duplicates written once, conflicts resolved and reported."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main as shopbot
from bot.console.agents import AgentStore
from bot.storage.corrections import CorrectionStore
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from tests.unit.bot.console.helpers import FakeClock, cheap_passwords
from training.export_corrections import FAQ_FILE, NLU_FILE, export, training_intents


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'var' / 'shopbot.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture()
def store(db_url: str) -> Iterator[CorrectionStore]:
    engine = make_engine(db_url)
    agents = AgentStore(engine, cheap_passwords())
    agents.add("bob@example.com", "Bob", "agent", "a long passphrase here")
    agents.add("ada@example.com", "Ada", "admin", "another long passphrase")
    yield CorrectionStore(engine, FakeClock(tick_s=1))
    engine.dispose()


@pytest.fixture()
def training_data(tmp_path: Path) -> Path:
    folder = tmp_path / "nlu"
    (folder / "generated").mkdir(parents=True)
    (folder / "generated" / "orders.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: track_order\n  examples: |\n'
        "    - where is my order [482913](order_number)\n    - track my parcel\n",
        encoding="utf-8",
    )
    return folder


def accept(store: CorrectionStore, cid: str, text: str, intent: str, **extra: object) -> int:
    made = store.propose(cid, 1, "intent", text, 1, intent=intent, **extra)  # type: ignore[arg-type]
    store.review(made.id, True, 2)
    return made.id


def test_export_writes_rasa_nlu_and_faq_rows(
    store: CorrectionStore, training_data: Path, tmp_path: Path
) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    mug = accept(
        store,
        "c/1",
        "Is the [blue] mug\nin stock?",
        "product_question",
        entities=[{"entity": "product", "start": 7, "end": 17, "value": "B0MUG"}],
    )
    twice = accept(store, "c3", "Status of 551203   PLEASE", "track_order")  # older duplicate
    order = accept(
        store,
        "c2",
        "status of 551203 please",
        "track_order",
        entities=[{"entity": "order_number", "start": 10, "end": 16}],
    )
    old = accept(store, "c4", "can I pay with paypal", "check_refund_policy")
    new = accept(store, "c5", "Can I pay with PayPal", "check_payment_methods")  # newer wins
    known = accept(store, "c6", "Track my parcel", "track_order")  # already in the data
    clash = accept(
        store, "c7", "Where is my order 482913", "cancel_order"
    )  # in the data as track_order
    store.propose("c8", 1, "intent", "not accepted", 1, intent="greet")
    rejected = store.propose("c9", 1, "intent", "rejected one", 1, intent="greet")
    store.review(rejected.id, False, 2)
    fact = store.propose(
        "c1",
        2,
        "answer",
        "I don't know",
        1,
        question="Do you ship to Norway?",
        answer="Yes, in 5 days.",
        is_fact=True,
    )
    store.review(fact.id, True, 2)
    opinion = store.propose(
        "c1", 3, "answer", "Meh", 1, question="q", answer="Better", is_fact=False
    )
    store.review(opinion.id, True, 2)

    out = tmp_path / "out"
    report = export(store, out, training_data)

    assert sorted(c.id for c in report.examples) == [mug, order, new]
    assert len(report.duplicates) == 2
    assert any(f"correction {twice}" in line for line in report.duplicates)
    assert any(
        f"correction {known}: already in the training data" in line for line in report.duplicates
    )
    assert len(report.conflicts) == 2
    assert any(
        f"correction {old}:" in line and f"correction {new}" in line for line in report.conflicts
    )
    assert any(
        f"correction {clash}:" in line and "track_order" in line for line in report.conflicts
    )
    assert "3 NLU examples, 1 FAQ rows written; 2 duplicates, 2 conflicts." in report.summary()

    written = (out / NLU_FILE).read_text(encoding="utf-8")
    assert f"  # conversation c/1, correction {mug}\n" in written
    data = load_data(str(out / NLU_FILE))
    examples = {(m.get("text"), m.get("intent")) for m in data.intent_examples}
    assert examples == {
        ("Is the (blue) mug in stock?", "product_question"),
        ("status of 551203 please", "track_order"),
        ("Can I pay with PayPal", "check_payment_methods"),
    }
    by_text = {m.get("text"): m for m in data.intent_examples}
    mug_entities = by_text["Is the (blue) mug in stock?"].get("entities")
    assert [(e["start"], e["end"], e["entity"], e["value"]) for e in mug_entities] == [
        (7, 17, "product", "B0MUG")
    ]
    assert by_text["status of 551203 please"].get("entities")[0]["value"] == "551203"
    assert by_text["status of 551203 please"].get("metadata") == {
        "example": {"conversation_id": "c2", "correction_id": order}
    }

    with (out / FAQ_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "question": "Do you ship to Norway?",
            "answer": "Yes, in 5 days.",
            "conversation_id": "c1",
            "correction_id": str(fact.id),
        }
    ]


def test_export_of_nothing_is_valid_and_the_real_training_data_reads(
    store: CorrectionStore, tmp_path: Path
) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    report = export(store, tmp_path / "empty")
    assert report.examples == [] and report.faq_rows == []
    assert load_data(str(tmp_path / "empty" / NLU_FILE)).intent_examples == []
    known = training_intents()  # bot/data/nlu: generated and hand-written sources
    assert "cancel_order" in known["cancel my order"]
    assert "inform" in known["order 100234"]


def test_cli_export_prints_a_summary(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPBOT_HOME", str(tmp_path))
    monkeypatch.setenv("SHOPBOT_APP_DB_URL", db_url)
    assert shopbot(["corrections", "export", "--out", str(tmp_path / "x")]) == 0
    printed = capsys.readouterr().out
    assert "0 NLU examples, 0 FAQ rows written; 0 duplicates, 0 conflicts." in printed
    assert (tmp_path / "x" / NLU_FILE).is_file() and (tmp_path / "x" / FAQ_FILE).is_file()
    with pytest.raises(SystemExit) as exit_:
        shopbot(["corrections", "--help"])
    assert exit_.value.code == 0
