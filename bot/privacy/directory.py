"""The store's customers as masking looks for them: names, emails, phones and postal addresses.

The store's order database (``Settings.store_db_url``; schema in ``actions/store/schema.py``) is
the system of record. This module declares just the two tables it reads (``customers``,
``addresses``) and only SELECTs, so the console (which imports no ``actions``) can use it. A store
without that database (a custom ``StoreBackend``) gets an empty directory: masking then relies on
its patterns alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

RELOAD_AFTER_S = 300.0  # new customers become known to masking within five minutes

_store = MetaData()
customers = Table(
    "customers",
    _store,
    Column("id", Integer, primary_key=True),
    Column("name", String(120)),
    Column("email", String(254)),
    Column("phone", String(32)),
)
addresses = Table(
    "addresses",
    _store,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer),
    Column("line1", String(200)),
    Column("line2", String(200)),
    Column("city", String(100)),
    Column("region", String(100)),
    Column("postal_code", String(20)),
    Column("country", String(2)),
)


@dataclass(frozen=True)
class PostalAddress:
    """One address as the store keeps it."""

    line1: str
    line2: str | None = None
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"


@dataclass(frozen=True)
class Person:
    """One of the store's customers."""

    name: str
    email: str
    phone: str | None = None
    addresses: tuple[PostalAddress, ...] = ()


@dataclass
class StoreDirectory:
    """The store's customers, looked up by email (lower-cased).

    Args:
        people: Every customer.
    """

    people: list[Person] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_email = {p.email.strip().lower(): p for p in self.people if p.email}

    def person(self, email: str | None) -> Person | None:
        """The customer with this email (None: not a customer, or no email)."""
        return self._by_email.get((email or "").strip().lower()) if email else None

    @property
    def countries(self) -> set[str]:
        """The countries the customers' addresses are in (ISO 3166 alpha-2, upper case)."""
        return {a.country.upper() for p in self.people for a in p.addresses if a.country}

    @classmethod
    def from_records(cls, records: Iterable[dict[str, object]]) -> StoreDirectory:
        """From plain dicts (``name``, ``email``, ``phone``, ``addresses``: dicts of the
        :class:`PostalAddress` fields), e.g. a JSON fixture."""
        people = []
        for record in records:
            raw_addresses = record.get("addresses") or []
            assert isinstance(raw_addresses, list)
            people.append(
                Person(
                    name=str(record.get("name") or ""),
                    email=str(record.get("email") or ""),
                    phone=str(record["phone"]) if record.get("phone") else None,
                    addresses=tuple(PostalAddress(**a) for a in raw_addresses),
                )
            )
        return cls(people)

    @classmethod
    def load(cls, url: str) -> StoreDirectory:
        """Read every customer and address from the store's database at ``url`` (an empty
        directory when the database or its tables do not exist)."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            engine = create_engine(
                f"sqlite:///file:{database}?mode=ro&uri=true", future=True
            )  # read-only: never creates the file
        else:
            engine = create_engine(url, future=True, pool_pre_ping=True)
        try:
            with engine.connect() as conn:
                if not sa_inspect(conn).has_table("customers"):
                    return cls([])
                found: dict[int, list[PostalAddress]] = {}
                for row in conn.execute(select(addresses).order_by(addresses.c.id)):
                    found.setdefault(int(row.customer_id), []).append(
                        PostalAddress(
                            line1=row.line1 or "",
                            line2=row.line2,
                            city=row.city or "",
                            region=row.region or "",
                            postal_code=row.postal_code or "",
                            country=row.country or "",
                        )
                    )
                people = [
                    Person(row.name or "", row.email or "", row.phone, tuple(found.get(row.id, [])))
                    for row in conn.execute(select(customers).order_by(customers.c.id))
                ]
        except SQLAlchemyError as exc:
            logger.warning(
                "Cannot read the store's customers at %s (%s); masking uses its patterns only",
                parsed.render_as_string(hide_password=True),
                exc.__class__.__name__,
            )
            return cls([])
        finally:
            engine.dispose()
        return cls(people)


class DirectorySource:
    """The directory, loaded on first use and reloaded when older than ``reload_after_s``.

    Args:
        loader: Reads the directory (e.g. ``lambda: StoreDirectory.load(url)``).
        reload_after_s: Seconds a loaded directory is used before it is read again.
        clock: Monotonic seconds (tests).
    """

    def __init__(
        self,
        loader: Callable[[], StoreDirectory],
        reload_after_s: float = RELOAD_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self._reload_after_s = reload_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded: tuple[float, StoreDirectory] | None = None

    @classmethod
    def fixed(cls, directory: StoreDirectory) -> DirectorySource:
        """A source that always answers ``directory``."""
        return cls(lambda: directory, reload_after_s=float("inf"))

    @classmethod
    def from_url(cls, url: str) -> DirectorySource:
        """The store database at ``url`` (``Settings.resolve_db_url(settings.store_db_url)``)."""
        return cls(lambda: StoreDirectory.load(url))

    def get(self) -> StoreDirectory:
        """The directory (read now if never read or stale)."""
        with self._lock:
            now = self._clock()
            if self._loaded is None or now - self._loaded[0] > self._reload_after_s:
                directory = self._loader()
                logger.info("Masking knows %d store customers", len(directory.people))
                self._loaded = (now, directory)
            return self._loaded[1]
