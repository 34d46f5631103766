"""The workflow sandbox, with the time-zone database let through.

The default sandbox wraps ``zoneinfo.ZoneInfo`` in a proxy that datetime does
not accept as a tzinfo. The members it guards (``clear_cache``, ``from_file``,
``reset_tzpath``) are never used here, and zone rules are deterministic data,
so the county's calendar clocks may use the real class.
"""

import dataclasses

from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

RESTRICTIONS = dataclasses.replace(
    SandboxRestrictions.default,
    invalid_module_members=(
        SandboxRestrictions.invalid_module_members_default.with_child_unrestricted(
            "zoneinfo"
        )
    ),
).with_passthrough_modules(
    # The project's own deterministic code holds no mutable module state
    # (definitions, enums, models, one read-only step table), so it is
    # imported once, not again for every workflow: half the CPU of starting
    # an episode, and about 2 MB less per cached episode (docs/benchmarks.md).
    "workflows",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The runner every worker, replayer and simulator uses."""
    return SandboxedWorkflowRunner(restrictions=RESTRICTIONS)
