"""Northwind (tests/fixtures/northwind: customers, orders, order lines, products) and a real PostgreSQL
server for the tests, started by ``scripts/start-postgres``; no mocks.

``scripts/check`` (and so ``.ci/run``) starts one server and exports its URL as
``MIRAGE_TEST_POSTGRES_URL``; a test session without it starts its own on first use (the session
fixture ``postgres_server``) and stops it at the end.  Each test gets a database of its own
(``postgres_url``), so that tests running in parallel never see each other's tables.  Where no server
can be started, the tests that need one skip with the script's one-line reason.
"""

from __future__ import annotations

import os
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from mirage.schema import DatabaseSchema

REPO = Path(__file__).resolve().parents[1]
NORTHWIND = REPO / "tests" / "fixtures" / "northwind"
SCRIPT = REPO / "scripts" / "start-postgres"
ENV = "MIRAGE_TEST_POSTGRES_URL"

_server: dict[str, str] = {}

# Northwind's keys as a database declares them
FOREIGN_KEYS = {
    ("orders", ("customer_id",), "customers", ("customer_id",)),
    ("order_details", ("order_id",), "orders", ("order_id",)),
    ("order_details", ("product_id",), "products", ("product_id",)),
}
PRIMARY_KEYS = {
    "customers": ("customer_id",),
    "orders": ("order_id",),
    "order_details": ("order_id", "product_id"),
    "products": ("product_id",),
}


def northwind() -> dict[str, pd.DataFrame]:
    """The four Northwind tables as mirage reads them (a fresh copy each call)."""
    from mirage.io import read_table

    return {path.stem: read_table(path) for path in sorted(NORTHWIND.glob("*.csv"))}


def northwind_schema() -> DatabaseSchema:
    """Northwind's keys as a database declares them (orders -> customers, order lines -> orders and
    products; an order line's key is its order and product)."""
    from mirage.io import infer_database_schema

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return infer_database_schema(northwind())


def _start() -> str:
    """Start a server with scripts/start-postgres and return its URL, or skip with the script's reason."""
    if "error" in _server:
        pytest.skip(_server["error"])
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0 or not done.stdout.strip():
        lines = (done.stderr or "").strip().splitlines() or ["scripts/start-postgres failed"]
        _server["error"] = f"PostgreSQL is not available: {lines[-1]}"
        pytest.skip(_server["error"])
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running server's ``postgres`` database: the one ``scripts/check`` started, else one
    started here and stopped at the end of the test session."""
    if os.environ.get(ENV):
        yield os.environ[ENV]
        return
    url = _start()
    try:
        yield url
    finally:
        subprocess.run([str(SCRIPT), "--stop", url], check=False, capture_output=True, timeout=120)


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


@pytest.fixture()
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of a new, empty database on the test server; dropped after the test."""
    server = postgres_server
    name = f"mirage_{uuid.uuid4().hex[:12]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0] + "/" + name
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
