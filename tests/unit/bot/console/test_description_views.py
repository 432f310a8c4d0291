"""Product descriptions in the console: admins generate drafts (a scripted generator double, or
the template baseline when there is no generator), accept them as written or edited (an edit
passes the verifier or is refused), reject them, and download the accepted ones in the rows
``shopbot describe`` writes; agents get 403, signed-out users the sign-in page."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.console.context import Console
from bot.console.describing import Describing
from bot.storage.descriptions import DescriptionDrafts, Draft
from knowledge.catalog.jsonl import write_catalog_jsonl
from knowledge.catalog.model import Product
from knowledge.describe import DescriptionResult, template_description
from knowledge.describe_cli import CSV_FIELDS, write_rows
from tests.unit.bot.console.helpers import (
    ADMIN,
    AGENT,
    TestClient,
    csrf_header,
    csrf_of,
    signed_in,
)
from tests.unit.knowledge.answer_doubles import ScriptedGenerator
from tests.unit.knowledge.describe_helpers import GUILLOW_ID, demo_product, demo_products

LONGBOARD_ID = "4c69b61db1fc16e7013b43fc926e502d"
FAITHFUL = (
    "The Guillow Airplane Design Studio by Guillow is a model kit for builders 8 years and up. "
    "Experiment with different designs and learn about flight."
)
EDITED = FAITHFUL.replace("Experiment with different designs", "Try your own designs")
UNSUPPORTED = "The Guillow Airplane Design Studio costs $19.99 and flies far."
ROUTES = [
    ("GET", "/descriptions"),
    ("POST", "/descriptions/generate"),
    ("GET", "/descriptions/export/csv"),
    ("POST", "/descriptions/1/accept"),
    ("POST", "/descriptions/1/reject"),
]


@pytest.fixture()
def catalog(console: Console) -> list[Product]:
    """Two products without a description (the Guillow kit, a longboard) and one with one."""
    described = next(
        p
        for p in demo_products()
        if p.description.strip() and p.id not in (GUILLOW_ID, LONGBOARD_ID)
    )
    products = [
        replace(demo_product(), description=""),
        replace(demo_product(LONGBOARD_ID), description=""),
        described,
    ]
    write_catalog_jsonl(products, console.settings.var_dir / "store" / "catalog.jsonl")
    return products


@pytest.fixture()
def generator(console: Console) -> ScriptedGenerator:
    """The console's generator: writes the Guillow's faithful draft for every product."""
    scripted = ScriptedGenerator(FAITHFUL)
    console.describing = Describing(console.settings, generator=scripted)
    return scripted


@pytest.fixture()
def admin(client_factory: Any) -> TestClient:
    return signed_in(client_factory(), ADMIN)


def post(client: TestClient, path: str, **data: str) -> Any:
    """Submit a form of the page with the session's CSRF token (redirects not followed)."""
    token = csrf_of(client.get("/descriptions").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def drafts_by_product(console: Console) -> dict[str, Draft]:
    return {d.product_id: d for d in DescriptionDrafts(console.engine).list()}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_admins_reach_the_descriptions(client_factory: Any, method: str, path: str) -> None:
    anonymous = client_factory().request(method, path, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    agent = signed_in(client_factory(), AGENT)
    headers = csrf_header(agent) if method == "POST" else {}
    assert agent.request(method, path, headers=headers).status_code == 403


def test_the_nav_link_shows_for_admins_only(admin: TestClient, client_factory: Any) -> None:
    assert 'href="/descriptions"' in admin.get("/").text
    assert 'href="/descriptions"' not in signed_in(client_factory(), AGENT).get("/").text


def test_admin_sees_the_products_without_a_description(
    admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    page = admin.get("/descriptions")
    assert page.status_code == 200
    assert "2 product(s) without a description, 2 not drafted yet." in page.text
    assert f'data-product-id="{GUILLOW_ID}"' in page.text
    assert f'data-product-id="{catalog[2].id}"' not in page.text  # it has a description
    assert "Generator ScriptedGenerator (loaded)." in page.text
    assert 'data-testid="no-generator"' not in page.text
    assert "No drafts." in page.text


def test_generate_stores_each_draft_with_its_status(
    console: Console, admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    reply = post(admin, "/descriptions/generate", mode="generator")
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/descriptions?generated=2#drafts"
    drafts = drafts_by_product(console)
    assert set(drafts) == {GUILLOW_ID, LONGBOARD_ID}  # not the product that has a description
    guillow, longboard = drafts[GUILLOW_ID], drafts[LONGBOARD_ID]
    assert guillow.status == "proposed" and guillow.fields.outcome == "accepted"
    assert guillow.fields.description == FAITHFUL and guillow.fields.unsupported == []
    assert guillow.creator_name == ADMIN[1]
    # The Guillow's name is not the longboard's: the verifier refused that draft.
    assert longboard.fields.outcome == "rejected" and longboard.fields.description == ""
    assert longboard.fields.unsupported and longboard.fields.draft == FAITHFUL
    assert len(generator.prompts) == 2

    page = admin.get(reply.headers["location"])
    assert "2 draft(s) generated" in page.text
    assert page.text.count('data-testid="draft"') == 2
    assert "draft passed the check" in page.text and "draft failed the check" in page.text
    assert "Price: $28.91" in page.text  # the attributes the draft is checked against
    assert 'data-testid="unsupported"' in page.text
    again = post(admin, "/descriptions/generate", mode="generator")
    assert again.status_code == 409 and "has a draft already" in again.text


def test_generate_one_product_by_id(
    console: Console, admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    unknown = post(admin, "/descriptions/generate", product_id="nope", mode="generator")
    assert unknown.status_code == 400 and "is not in the catalog" in unknown.text
    bad_mode = post(admin, "/descriptions/generate", mode="guess")
    assert bad_mode.status_code == 400 and "mode must be one of" in bad_mode.text
    described = catalog[2].id  # one product id may be drafted even when it has a description
    assert post(admin, "/descriptions/generate", product_id=described).status_code == 303
    assert set(drafts_by_product(console)) == {described}
    twice = post(admin, "/descriptions/generate", product_id=described)
    assert twice.status_code == 409 and "waiting for review" in twice.text


def test_accept_unchanged_records_who_and_when(
    console: Console, admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    post(admin, "/descriptions/generate", product_id=GUILLOW_ID)
    draft = drafts_by_product(console)[GUILLOW_ID]
    reply = post(admin, f"/descriptions/{draft.id}/accept", text=FAITHFUL)
    assert reply.status_code == 303, reply.text
    now = DescriptionDrafts(console.engine).get(draft.id)
    assert now is not None and now.status == "accepted"
    assert now.final_text == FAITHFUL and not now.edited
    assert now.reviewer_name == ADMIN[1] and now.reviewed_at == console.clock()
    page = admin.get(reply.headers["location"])
    assert f"Draft {draft.id} accepted." in page.text
    assert f"Accepted by {ADMIN[1]}, 2026-12-01 09:00" in page.text
    again = post(admin, f"/descriptions/{draft.id}/accept", text=FAITHFUL)
    assert again.status_code == 409 and f"already accepted by {ADMIN[1]}" in again.text
    assert post(admin, "/descriptions/999/accept", text=FAITHFUL).status_code == 404


def test_accept_an_edit_that_the_attributes_support(
    console: Console, admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    post(admin, "/descriptions/generate", product_id=GUILLOW_ID)
    draft = drafts_by_product(console)[GUILLOW_ID]
    reply = post(admin, f"/descriptions/{draft.id}/accept", text=f"  {EDITED}\n")
    assert reply.status_code == 303, reply.text
    now = DescriptionDrafts(console.engine).get(draft.id)
    assert now is not None and now.status == "accepted"
    assert now.final_text == EDITED and now.edited
    assert "Accepted (edited):" in admin.get("/descriptions").text


def test_an_edit_with_an_unsupported_fact_is_refused(
    console: Console, admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    post(admin, "/descriptions/generate", product_id=GUILLOW_ID)
    draft = drafts_by_product(console)[GUILLOW_ID]
    reply = post(admin, f"/descriptions/{draft.id}/accept", text=UNSUPPORTED)
    assert reply.status_code == 422
    assert "Not accepted" in reply.text and "$19.99" in reply.text
    assert 'data-testid="refused"' in reply.text
    assert f">{UNSUPPORTED}</textarea>" in reply.text  # the admin's text is kept to fix it
    now = DescriptionDrafts(console.engine).get(draft.id)
    assert now is not None and now.status == "proposed" and now.final_text is None


def test_a_failed_draft_cannot_be_accepted_unchanged_and_is_rejected(
    console: Console, admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    post(admin, "/descriptions/generate", product_id=LONGBOARD_ID)
    draft = drafts_by_product(console)[LONGBOARD_ID]
    refused = post(admin, f"/descriptions/{draft.id}/accept", text=draft.proposed_text)
    assert refused.status_code == 422
    reply = post(admin, f"/descriptions/{draft.id}/reject")
    assert reply.status_code == 303, reply.text
    now = DescriptionDrafts(console.engine).get(draft.id)
    assert now is not None and now.status == "rejected" and now.reviewer_name == ADMIN[1]
    assert f"Draft {draft.id} rejected." in admin.get(reply.headers["location"]).text
    assert post(admin, f"/descriptions/{draft.id}/reject").status_code == 409


def _expected_rows(console: Console) -> list[DescriptionResult]:
    drafts = drafts_by_product(console)
    guillow, longboard = drafts[GUILLOW_ID], drafts[LONGBOARD_ID]
    return [
        DescriptionResult(
            GUILLOW_ID, guillow.fields.name, "accepted", EDITED, "edited", FAITHFUL, [],
            "ScriptedGenerator",
        ),
        DescriptionResult(
            LONGBOARD_ID, longboard.fields.name, "template",
            template_description(demo_product(LONGBOARD_ID)), "template", FAITHFUL,
            longboard.fields.unsupported, "ScriptedGenerator",
        ),
    ]  # fmt: skip


def test_export_writes_the_accepted_rows_as_shopbot_describe_does(
    console: Console,
    admin: TestClient,
    catalog: list[Product],
    generator: ScriptedGenerator,
    tmp_path: Path,
) -> None:
    empty = admin.get("/descriptions/export/csv")
    assert empty.status_code == 200 and empty.text.strip() == ",".join(CSV_FIELDS)
    post(admin, "/descriptions/generate", mode="generator+template")
    drafts = drafts_by_product(console)
    assert drafts[LONGBOARD_ID].fields.outcome == "template"
    post(admin, f"/descriptions/{drafts[GUILLOW_ID].id}/accept", text=EDITED)
    longboard_text = drafts[LONGBOARD_ID].fields.description
    post(admin, f"/descriptions/{drafts[LONGBOARD_ID].id}/accept", text=longboard_text)
    expected = _expected_rows(console)

    jsonl = admin.get("/descriptions/export/jsonl")
    assert jsonl.status_code == 200
    assert jsonl.headers["content-disposition"] == 'attachment; filename="descriptions.jsonl"'
    assert [json.loads(line) for line in jsonl.text.splitlines()] == [r.to_dict() for r in expected]
    assert jsonl.text == write_rows(expected, tmp_path / "d.jsonl").read_bytes().decode()
    csv_reply = admin.get("/descriptions/export/csv")
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert csv_reply.text == write_rows(expected, tmp_path / "d.csv").read_bytes().decode()
    assert admin.get("/descriptions/export/xlsx").status_code == 404


def test_state_changes_need_the_csrf_token(
    console: Console, admin: TestClient, catalog: list[Product], generator: ScriptedGenerator
) -> None:
    forged = admin.post("/descriptions/generate", data={"mode": "generator"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert drafts_by_product(console) == {}
    post(admin, "/descriptions/generate", product_id=GUILLOW_ID)
    draft = drafts_by_product(console)[GUILLOW_ID]
    for action in ("accept", "reject"):
        reply = admin.post(
            f"/descriptions/{draft.id}/{action}", data={"text": FAITHFUL, "csrf_token": "wrong"}
        )
        assert reply.status_code == 403
    now = DescriptionDrafts(console.engine).get(draft.id)
    assert now is not None and now.status == "proposed"


def test_without_a_generator_the_page_offers_the_template_baseline(
    console: Console, admin: TestClient, catalog: list[Product]
) -> None:
    page = admin.get("/descriptions")
    assert 'data-testid="no-generator"' in page.text and "No generator at" in page.text
    assert 'value="generator"' not in page.text
    refused = post(admin, "/descriptions/generate", mode="generator")
    assert refused.status_code == 503 and "template baseline instead" in refused.text
    reply = post(admin, "/descriptions/generate", product_id=GUILLOW_ID, mode="template")
    assert reply.status_code == 303, reply.text
    draft = drafts_by_product(console)[GUILLOW_ID]
    assert draft.fields.outcome == "template" and draft.fields.source == "template"
    assert draft.fields.description == template_description(demo_product())
    assert draft.fields.draft == "" and draft.fields.generator == ""
    assert "Template baseline (not written by the generator)" in admin.get("/descriptions").text
    accepted = post(admin, f"/descriptions/{draft.id}/accept", text=draft.fields.description)
    assert accepted.status_code == 303, accepted.text
    [row] = [json.loads(x) for x in admin.get("/descriptions/export/jsonl").text.splitlines()]
    assert row["status"] == "template" and row["source"] == "template"


def test_without_a_catalog_the_page_says_how_to_build_it(
    admin: TestClient, generator: ScriptedGenerator
) -> None:
    page = admin.get("/descriptions")
    assert (
        page.status_code == 200 and "No catalog at" in page.text and "shopbot prepare" in page.text
    )
    reply = post(admin, "/descriptions/generate", mode="generator")
    assert reply.status_code == 409 and "No catalog at" in reply.text
