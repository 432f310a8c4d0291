"""Invoices and payments over the seeded demo store."""

from __future__ import annotations

import pytest

from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import NoInvoice
from tests.unit.actions.store.sql.helpers import owner


def test_invoice_and_payment(seeded: SqlStoreBackend, picks: dict) -> None:
    invoice = seeded.invoice(owner(seeded, picks["shipped"]))
    assert invoice.number.startswith("INV-") and invoice.amount > 0 and invoice.items
    with pytest.raises(NoInvoice):
        seeded.invoice(owner(seeded, picks["authorized"]))
    (payment,) = seeded.payment_status(owner(seeded, picks["authorized"]))
    assert payment.status == "authorized"
