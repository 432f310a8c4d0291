"""The description drafts store: migration 0009 up and down on SQLite, add, list, review once,
the latest accepted draft of each product."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot.console.agents import AgentStore
from bot.storage.descriptions import DescriptionDrafts, DraftFields
from bot.storage.engine import make_engine
from bot.storage.migrate import alembic_config, current_revision, upgrade_to_head
from tests.unit.bot.console.helpers import FakeClock, cheap_passwords


def test_migration_0009_up_and_down(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    head = upgrade_to_head(url)
    engine = make_engine(url)
    assert "description_drafts" in inspect(engine).get_table_names()
    columns = {c["name"] for c in inspect(engine).get_columns("description_drafts")}
    assert {
        "product_id",
        "outcome",
        "unsupported",
        "status",
        "final_text",
        "reviewed_by",
    } <= columns
    command.downgrade(alembic_config(url), "0008")
    assert current_revision(url) == "0008"
    assert "description_drafts" not in inspect(engine).get_table_names()
    assert upgrade_to_head(url) == head == "0009"
    engine.dispose()


@pytest.fixture()
def store(app_engine: Engine) -> tuple[DescriptionDrafts, int]:
    admin = AgentStore(app_engine, cheap_passwords()).add(
        "ada@example.com", "Ada", "admin", "another long passphrase"
    )
    return DescriptionDrafts(app_engine, FakeClock(tick_s=1)), admin.id


GOOD = DraftFields("p1", "Kit", "accepted", "A kit by Guillow.", "generator", "A kit by Guillow.")
BAD = DraftFields("p2", "Board", "rejected", "", "", "Costs $9.", ["price $9"], "local:generator")


def test_add_list_and_review_once(store: tuple[DescriptionDrafts, int]) -> None:
    drafts, admin = store
    good, bad = drafts.add([GOOD, BAD], admin)
    assert good.status == bad.status == "proposed" and good.creator_name == "Ada"
    assert bad.fields == BAD and bad.proposed_text == "Costs $9."
    assert good.proposed_text == "A kit by Guillow."
    assert {d.id for d in drafts.list()} == {good.id, bad.id}
    assert drafts.statuses_by_product() == {"p1": {"proposed"}, "p2": {"proposed"}}

    decided, now = drafts.review(good.id, True, admin, text="A kit by Guillow.")
    assert decided and now is not None and now.status == "accepted"
    assert now.final_text == "A kit by Guillow." and not now.edited
    assert now.reviewer_name == "Ada" and now.reviewed_at is not None
    again, same = drafts.review(good.id, False, admin)  # already decided: no change
    assert not again and same is not None and same.status == "accepted"
    assert drafts.review(9999, True, admin, text="x") == (False, None)
    decided, rejected = drafts.review(bad.id, False, admin)
    assert decided and rejected is not None and rejected.final_text is None
    assert [d.id for d in drafts.list("rejected")] == [bad.id]
    assert [d.id for d in drafts.accepted()] == [good.id]
    with pytest.raises(ValueError, match="status must be one of"):
        drafts.list("pending")
    with pytest.raises(ValueError, match="needs its text"):
        drafts.review(bad.id, True, admin, text=" ")


def test_accepted_keeps_the_latest_draft_of_a_product(store: tuple[DescriptionDrafts, int]) -> None:
    drafts, admin = store
    first, second = drafts.add([GOOD, GOOD], admin)  # two admins generating at once
    drafts.review(first.id, True, admin, text="First.")
    drafts.review(second.id, True, admin, text="Second, edited.", edited=True)
    [latest] = drafts.accepted()
    assert latest.id == second.id and latest.edited and latest.final_text == "Second, edited."
