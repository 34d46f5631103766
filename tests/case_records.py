"""Case records to test on: a SQLite file, and a PostgreSQL schema.

``.ci/postgres`` starts a PostgreSQL server on loopback and exports
``CASE_RECORD_TEST_POSTGRES_URL``; ``.ci/run`` sources it, so CI runs every
PostgreSQL test. Without that variable (a machine with no PostgreSQL) those
tests are skipped and say why; with it, an unreachable server fails them.
Each test gets a schema of its own in that database, dropped after it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from activities import (
    AdapterConfig,
    PostgresCaseRecord,
    SqlCaseRecord,
    SqliteCaseRecord,
)

POSTGRES_URL_ENV = "CASE_RECORD_TEST_POSTGRES_URL"
STORES = ["sqlite", "postgres"]


def in_schema(url: str, schema: str) -> str:
    """The URL with ``search_path`` set, so every table lands in ``schema``."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of the test database whose tables go to a fresh schema."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; `. .ci/postgres` starts one")
    schema = f"test_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    yield in_schema(url, schema)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=STORES)
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> AdapterConfig:
    """The default adapters' configuration, on each kind of case record."""
    if request.param == "sqlite":
        return AdapterConfig(case_record_path=tmp_path / "state" / "case_record")
    return AdapterConfig(case_record_url=request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_record(store_config: AdapterConfig) -> Callable[[], SqlCaseRecord]:
    """Opens the same case record at each call, as a new process would."""
    url = store_config.case_record_url
    if url is not None:
        return lambda: PostgresCaseRecord(url.get_secret_value())
    path = store_config.case_record_path
    assert path is not None
    return lambda: SqliteCaseRecord(path)
