"""The store's order database: SQLAlchemy 1.4 declarative models (2.0-style API, ``future=True``).

Tables: customers, addresses, orders, order_items, shipments, payments, refunds, return_requests,
invoices, audit_log. Portable between SQLite (the demo default) and PostgreSQL (production):

- statuses are ``VARCHAR`` + named ``CHECK`` constraints (non-native enums), exposed in Python as
  ``str`` enums (``OrderStatus.SHIPPED == "shipped"``);
- money is ``NUMERIC(10, 2)`` and always a ``Decimal`` in Python (``Money``), quantised to cents;
- timestamps are naive UTC ``DateTime`` values (SQLite keeps no time zone, so none is stored
  anywhere; convert at the edges);
- constraint names follow one naming convention, so migrations can address them.

Nothing connects at import time: call ``create_engine_from_url`` and ``create_schema``.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import declarative_base, relationship, sessionmaker, validates
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

__all__ = [
    "SHIPPING_METHODS",
    "Address",
    "AuditLog",
    "Base",
    "Customer",
    "Invoice",
    "ItemStatus",
    "Money",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "Refund",
    "RefundStatus",
    "ReturnRequest",
    "ReturnStatus",
    "Shipment",
    "ShipmentStatus",
    "create_engine_from_url",
    "create_schema",
    "drop_schema",
    "make_session_factory",
    "to_money",
]


SHIPPING_METHODS: tuple[str, ...] = ("standard", "express", "next_day")
"""Shipping methods the demo store offers (``Order.shipping_method``)."""


class OrderStatus(str, enum.Enum):
    """Where an order stands."""

    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class ItemStatus(str, enum.Enum):
    """Where one order line stands (a delivered order can have one item being returned)."""

    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURN_REQUESTED = "return_requested"
    RETURNED = "returned"


class ShipmentStatus(str, enum.Enum):
    """Carrier tracking state."""

    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class PaymentMethod(str, enum.Enum):
    """How the shopper paid."""

    CARD = "card"
    PAYPAL = "paypal"
    APPLE_PAY = "apple_pay"
    GOOGLE_PAY = "google_pay"
    GIFT_CARD = "gift_card"


class PaymentStatus(str, enum.Enum):
    """Payment lifecycle: authorised at checkout, captured, then possibly (partly) refunded."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"


class RefundStatus(str, enum.Enum):
    """Refund lifecycle."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class ReturnStatus(str, enum.Enum):
    """Return lifecycle: requested → approved → received → refunded (or rejected)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"


# --------------------------------------------------------------------------------------------------
# Column types
# --------------------------------------------------------------------------------------------------

_CENT = Decimal("0.01")


def to_money(value: Any) -> Decimal:
    """Return ``value`` as a ``Decimal`` rounded half-up to cents.

    Floats go through ``str`` so ``19.99`` stays ``Decimal("19.99")``.

    Raises:
        ValueError: If ``value`` is not a number.
    """
    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(
                f"Money value {value!r} is not a number; pass a Decimal, int, float or numeric "
                "string such as '19.99'."
            ) from None
    if not amount.is_finite():
        raise ValueError(f"Money value {value!r} is not finite; pass an amount such as '19.99'.")
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


class Money(TypeDecorator):
    """``NUMERIC(10, 2)`` that is always a cent-quantised ``Decimal`` in Python.

    SQLite has no decimal type and SQLAlchemy warns when it converts; here SQLite stores the
    number as a float and reads it back through ``str`` into an exact ``Decimal`` (lossless for
    two decimals at this precision). PostgreSQL stores a true ``NUMERIC``.
    """

    impl = Numeric(10, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        """Use a float-returning NUMERIC on SQLite (no decimal support), NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(10, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(10, 2))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        """Quantise to cents before storing."""
        if value is None:
            return None
        amount = to_money(value)
        return float(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        """Return a cent-quantised ``Decimal``."""
        return None if value is None else to_money(value)


def _status(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """A portable enum column type: ``VARCHAR(20)`` plus a named ``CHECK`` on the values."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORDER_NUMBER = re.compile(r"^\d{6}$")


class Customer(Base):
    """A shopper account. ``email`` is stored lower-case and unique (the identity check key)."""

    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    email = Column(String(254), nullable=False, unique=True, index=True)
    phone = Column(String(32), nullable=True)
    created_at = Column(DateTime, nullable=False)

    addresses = relationship(
        "Address", back_populates="customer", cascade="all, delete-orphan", order_by="Address.id"
    )
    orders = relationship("Order", back_populates="customer", order_by="Order.placed_at")

    @validates("email")
    def _normalise_email(self, key: str, value: str) -> str:
        """Lower-case and check the email."""
        value = (value or "").strip().lower()
        if not _EMAIL.match(value):
            raise ValueError(
                f"Customer.email {value!r} is not an email address; use name@example.com."
            )
        return value

    def __repr__(self) -> str:
        return f"Customer(id={self.id!r}, email={self.email!r})"


class Address(Base):
    """A postal address of a customer (orders point at the one they ship to)."""

    __tablename__ = "addresses"

    id = Column(Integer, primary_key=True)
    customer_id = Column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    line1 = Column(String(200), nullable=False)
    line2 = Column(String(200), nullable=True)
    city = Column(String(100), nullable=False)
    region = Column(String(100), nullable=False)
    postal_code = Column(String(20), nullable=False)
    country = Column(String(2), nullable=False, default="US")

    customer = relationship("Customer", back_populates="addresses")

    def one_line(self) -> str:
        """``"12 Oak St, Austin, TX 78701, US"``."""
        street = ", ".join(part for part in (self.line1, self.line2) if part)
        return f"{street}, {self.city}, {self.region} {self.postal_code}, {self.country}"


class Order(Base):
    """An order. ``number`` is the 6-digit public order number shoppers quote.

    Money: ``total == subtotal + shipping_fee + tax`` and ``subtotal == Σ unit_price × quantity``
    (kept by whoever writes orders; checked by the seeding tests).
    """

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("length(number) = 6", name="number_six_digits"),
        CheckConstraint(
            "subtotal >= 0 AND shipping_fee >= 0 AND tax >= 0 AND total >= 0",
            name="amounts_non_negative",
        ),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(6), nullable=False, unique=True, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    status = Column(_status(OrderStatus, "order_status"), nullable=False, index=True)
    placed_at = Column(DateTime, nullable=False, index=True)
    cancelled_at = Column(DateTime, nullable=True)
    currency = Column(String(3), nullable=False, default="USD")
    subtotal = Column(Money, nullable=False)
    shipping_fee = Column(Money, nullable=False)
    tax = Column(Money, nullable=False)
    total = Column(Money, nullable=False)
    shipping_address_id = Column(Integer, ForeignKey("addresses.id"), nullable=False)
    shipping_method = Column(String(20), nullable=False, default="standard")

    customer = relationship("Customer", back_populates="orders")
    shipping_address = relationship("Address")
    items = relationship(
        "OrderItem", back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    shipments = relationship(
        "Shipment", back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )
    payments = relationship(
        "Payment", back_populates="order", cascade="all, delete-orphan", order_by="Payment.id"
    )
    refunds = relationship(
        "Refund", back_populates="order", cascade="all, delete-orphan", order_by="Refund.id"
    )
    return_requests = relationship(
        "ReturnRequest",
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="ReturnRequest.id",
    )
    invoices = relationship(
        "Invoice", back_populates="order", cascade="all, delete-orphan", order_by="Invoice.id"
    )

    @validates("number")
    def _check_number(self, key: str, value: str) -> str:
        """Order numbers are exactly six digits."""
        value = (value or "").strip().lstrip("#")
        if not _ORDER_NUMBER.match(value):
            raise ValueError(
                f"Order.number {value!r} is not six digits; use e.g. '482913' (no spaces)."
            )
        return value

    def __repr__(self) -> str:
        return f"Order(number={self.number!r}, status={self.status!r}, total={self.total!r})"


class OrderItem(Base):
    """One line of an order: a catalog product (id and name copied at purchase time) × quantity."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
    )

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    product_id = Column(String(64), nullable=False, index=True)
    product_name = Column(String(500), nullable=False)
    unit_price = Column(Money, nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    status = Column(_status(ItemStatus, "item_status"), nullable=False)
    # Sold as final sale (clearance): not returnable, as the FAQ says.
    final_sale = Column(Boolean, nullable=False, default=False, server_default=false())

    order = relationship("Order", back_populates="items")

    @property
    def line_total(self) -> Decimal:
        """``unit_price × quantity`` in cents."""
        return to_money(to_money(self.unit_price) * int(self.quantity))


class Shipment(Base):
    """A parcel handed to a carrier."""

    __tablename__ = "shipments"

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    carrier = Column(String(16), nullable=False)
    tracking_number = Column(String(40), nullable=False, unique=True, index=True)
    shipped_at = Column(DateTime, nullable=True)
    estimated_delivery = Column(Date, nullable=True)
    delivered_at = Column(DateTime, nullable=True)
    status = Column(_status(ShipmentStatus, "shipment_status"), nullable=False)

    order = relationship("Order", back_populates="shipments")


class Payment(Base):
    """A payment for an order (``last4`` only for cards; never the full number)."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_non_negative"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    method = Column(_status(PaymentMethod, "payment_method"), nullable=False)
    last4 = Column(String(4), nullable=True)
    amount = Column(Money, nullable=False)
    status = Column(_status(PaymentStatus, "payment_status"), nullable=False)
    paid_at = Column(DateTime, nullable=True)

    order = relationship("Order", back_populates="payments")


class Refund(Base):
    """Money sent back for a cancelled order or a return."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    return_request_id = Column(
        Integer, ForeignKey("return_requests.id", ondelete="SET NULL"), nullable=True
    )
    amount = Column(Money, nullable=False)
    status = Column(_status(RefundStatus, "refund_status"), nullable=False)
    reason = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False)
    completed_at = Column(DateTime, nullable=True)

    order = relationship("Order", back_populates="refunds")
    return_request = relationship("ReturnRequest", back_populates="refunds")


class ReturnRequest(Base):
    """A shopper's request to return one order item; ``return_id`` is the public RMA code."""

    __tablename__ = "return_requests"

    id = Column(Integer, primary_key=True)
    return_id = Column(String(20), nullable=False, unique=True, index=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    item_id = Column(
        Integer, ForeignKey("order_items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    reason = Column(String(200), nullable=False)
    status = Column(_status(ReturnStatus, "return_status"), nullable=False)
    created_at = Column(DateTime, nullable=False)

    order = relationship("Order", back_populates="return_requests")
    item = relationship("OrderItem")
    refunds = relationship("Refund", back_populates="return_request")


class Invoice(Base):
    """The invoice of a paid order, numbered ``INV-<year>-<6-digit sequence>``."""

    __tablename__ = "invoices"

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number = Column(String(20), nullable=False, unique=True, index=True)
    issued_at = Column(DateTime, nullable=False)
    amount = Column(Money, nullable=False)

    order = relationship("Order", back_populates="invoices")


class AuditLog(Base):
    """Who did what to which order, through which channel (append-only).

    ``details`` is JSON text (portable; read it with ``details_dict``).
    """

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, index=True)
    actor = Column(String(64), nullable=False)
    channel = Column(String(32), nullable=False)
    action = Column(String(64), nullable=False, index=True)
    # What the shopper quoted, even when invalid (so failed identity checks are auditable).
    order_number = Column(String(32), nullable=True, index=True)
    details = Column(Text, nullable=False, default="{}")

    @staticmethod
    def encode_details(details: dict[str, Any]) -> str:
        """Serialise details deterministically (sorted keys; Decimals and dates as strings)."""
        return json.dumps(details, sort_keys=True, default=str, ensure_ascii=False)

    @property
    def details_dict(self) -> dict[str, Any]:
        """``details`` parsed from JSON (``{}`` when empty)."""
        parsed = json.loads(self.details or "{}")
        return parsed if isinstance(parsed, dict) else {"value": parsed}


# --------------------------------------------------------------------------------------------------
# Engine and schema
# --------------------------------------------------------------------------------------------------


def _enable_sqlite_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite ignores foreign keys (and ``ON DELETE``) unless each connection turns them on."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine_from_url(url: str, echo: bool = False) -> Engine:
    """Create a 2.0-style engine for ``url`` (``sqlite:///var/store/shop.db``, ``postgresql://...``).

    For a SQLite file the parent folder is created, foreign keys are enforced, and connections are
    kept in a pool (moving between threads one at a time), as SQLAlchemy 2.0 does by default:
    1.4 opened a new connection, and read the schema again, for every session — an identity check
    and an order summary took 8.8 ms of CPU that way and 6.9 ms pooled (2026-12-07). The file's
    journal mode is left as it is (the store's own systems may share the file). Nothing connects
    until the engine is used.

    Raises:
        ValueError: If ``url`` is not a database URL.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise ValueError(
            f"db url {url!r} is not a database URL ({exc}); use e.g. "
            "'sqlite:///var/store/shop.db' or 'postgresql+psycopg2://user:pass@host/shop'."
        ) from None
    pooled: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        pooled = {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
    engine = create_engine(url, echo=echo, future=True, **pooled)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def create_schema(engine: Engine, drop_existing: bool = False) -> None:
    """Create every table (``drop_existing`` drops this schema's tables first, for a clean rebuild)."""
    if drop_existing:
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    logger.info("Store schema ready on %s", engine.url.render_as_string(hide_password=True))


def drop_schema(engine: Engine) -> None:
    """Drop every table of this schema (other tables in the database are left alone)."""
    Base.metadata.drop_all(engine)


def make_session_factory(engine: Engine) -> sessionmaker:
    """A 2.0-style session factory; objects stay readable after commit."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)
