"""Helpers shared by the SQL store backend tests (not collected: no test_ prefix)."""

from __future__ import annotations

from sqlalchemy import func, select

from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import Actor, Ownership
from tests.unit.actions.store.seeded import Pick

SHOPPER = Actor("shopper-1", "rest")


def owner(store: SqlStoreBackend, pick: Pick, actor: Actor = SHOPPER) -> Ownership:
    return store.verify_owner(pick.number, pick.email, actor)


def count(store: SqlStoreBackend, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
