"""``SqlStoreBackend``: the ``StoreBackend`` over the SQLAlchemy schema, made of one mixin per feature."""

from __future__ import annotations

from actions.store.sql.billing import BillingMixin
from actions.store.sql.cancellation import CancellationMixin
from actions.store.sql.identity import IdentityMixin
from actions.store.sql.returns import ReturnsMixin
from actions.store.sql.shipping import ShippingMixin

__all__ = ["SqlStoreBackend"]


class SqlStoreBackend(IdentityMixin, CancellationMixin, ShippingMixin, ReturnsMixin, BillingMixin):
    """``StoreBackend`` over the SQLAlchemy schema of ``actions.store.schema``.

    Args:
        engine_or_url: An engine, or a database URL (``sqlite:///var/store/shop.db``,
            ``postgresql+psycopg2://user:pw@host/shop``). Nothing connects until the first call.
        clock: Returns "now" as naive UTC; default the real clock (tests and demos on data seeded
            for a fixed date pass a fixed one).
        lockout: The failed-verification policy.
    """
