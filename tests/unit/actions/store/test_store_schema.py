"""The order-database schema: money stays exact, enums and constraints hold, nothing is SQLite-only."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.schema import CreateTable

from actions.store.schema import (
    Address,
    AuditLog,
    Base,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    create_engine_from_url,
    create_schema,
    make_session_factory,
    to_money,
)

T0 = dt.datetime(2026, 1, 2, 10, 30)


def _order(customer: Customer, address: Address, number: str = "123456") -> Order:
    return Order(
        number=number,
        customer=customer,
        status=OrderStatus.PROCESSING,
        placed_at=T0,
        currency="USD",
        subtotal="39.98",
        shipping_fee=Decimal("0"),
        tax=3.3,
        total=Decimal("43.28"),
        shipping_address=address,
        shipping_method="standard",
        items=[
            OrderItem(
                product_id="p1",
                product_name="Mug",
                unit_price=19.99,
                quantity=2,
                status="processing",
            )
        ],
    )


@pytest.fixture()
def session_factory() -> Iterator[sessionmaker]:
    engine = create_engine_from_url("sqlite://")
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _customer() -> tuple[Customer, Address]:
    customer = Customer(name="Maria Garcia", email="Maria.Garcia@Example.com", created_at=T0)
    address = Address(
        customer=customer, line1="1 Main St", city="Austin", region="TX", postal_code="78701"
    )
    return customer, address


def test_round_trip_keeps_money_exact_and_enums(session_factory: sessionmaker) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no SQLAlchemy "Decimal on SQLite" warning
        with session_factory() as session:
            customer, address = _customer()
            session.add(_order(customer, address))
            session.commit()
        with session_factory() as session:
            order = session.execute(select(Order)).scalar_one()
            assert order.customer.email == "maria.garcia@example.com"
            assert order.status is OrderStatus.PROCESSING and order.status == "processing"
            assert (order.subtotal, order.tax, order.total) == (
                Decimal("39.98"),
                Decimal("3.30"),
                Decimal("43.28"),
            )
            assert order.items[0].line_total == Decimal("39.98")
            assert order.shipping_address.one_line() == "1 Main St, Austin, TX 78701, US"


def test_validators_name_the_bad_value() -> None:
    with pytest.raises(ValueError, match="'12345'"):
        Order(number="12345")
    assert Order(number="#654321").number == "654321"
    with pytest.raises(ValueError, match="not-an-email"):
        Customer(email="not-an-email")
    with pytest.raises(ValueError, match="'abc'"):
        to_money("abc")
    assert to_money(0.125) == Decimal("0.13")


def test_constraints_hold(session_factory: sessionmaker) -> None:
    with session_factory() as session:
        customer, address = _customer()
        session.add(_order(customer, address))
        session.commit()
        session.add(_order(customer, address, number="123456"))  # duplicate order number
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        bad = _order(customer, address, number="222222")
        bad.items[0].quantity = 0
        session.add(bad)
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        bad_status = _order(customer, address, number="333333")
        bad_status.status = "lost"
        session.add(bad_status)
        with pytest.raises((StatementError, LookupError)):
            session.commit()


def test_audit_details_are_json() -> None:
    entry = AuditLog(details=AuditLog.encode_details({"amount": Decimal("5.00"), "b": 1}))
    assert entry.details_dict == {"amount": "5.00", "b": 1}


def test_schema_compiles_for_postgresql() -> None:
    dialect = postgresql.dialect()
    ddl = "\n".join(
        str(CreateTable(t).compile(dialect=dialect)) for t in Base.metadata.sorted_tables
    )
    assert "NUMERIC(10, 2)" in ddl
    assert (
        "CHECK (status IN ('processing', 'shipped', 'delivered', 'cancelled', 'returned'))" in ddl
    )
    assert set(Base.metadata.tables) == {
        "customers",
        "addresses",
        "orders",
        "order_items",
        "shipments",
        "payments",
        "refunds",
        "return_requests",
        "invoices",
        "audit_log",
    }
