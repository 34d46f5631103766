"""Saved histories of real episodes replay on the current code.

One history per workflow version that ever shipped lives in tests/histories
(made by ``python -m tests.histories.record``; ``v1-annual-report-2027`` is
``AnnualReportWorkflow`` counting ``tests/year_of_episodes.py``, saved
unsealed from a run on the time-skipping server). A change to the workflow
that alters its commands must be guarded by ``workflow.patched`` so that these
still replay (README, "Releasing a change to a workflow").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from codec import KeyRing, data_converter
from tests.unpatched_workflow import UnpatchedMissingYouthWorkflow
from workflows.abuse_report import AbuseReportWorkflow
from workflows.annual_report import AnnualReportWorkflow
from workflows.missing_youth import MissingYouthWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
BASELINE = Path(__file__).parent / "histories" / "v1-baseline-all-on-time.json"


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays_on_current_code(
    path: Path, session_keys: KeyRing
) -> None:
    # The production converter: the saved histories hold fictional data and
    # were recorded unsealed, which the codec reads as it is.
    replayer = Replayer(
        workflows=[MissingYouthWorkflow, AbuseReportWorkflow, AnnualReportWorkflow],
        data_converter=data_converter(session_keys),
        workflow_runner=workflow_runner(),
    )

    await replayer.replay_workflow(history(path))


async def test_unpatched_change_to_command_order_fails_replay(
    session_keys: KeyRing,
) -> None:
    replayer = Replayer(
        workflows=[UnpatchedMissingYouthWorkflow],
        data_converter=data_converter(session_keys),
        workflow_runner=workflow_runner(),
    )

    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(history(BASELINE))
