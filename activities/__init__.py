"""Every side effect of an episode, each behind an adapter chosen by config.

The worker needs two names: ``AdapterConfig`` and ``build_activities``.
Whatever else reads the case record opens it with ``open_case_record``, so
that it reads the configured one, SQLite or PostgreSQL.
"""

from activities.case_record import SqlCaseRecord
from activities.config import AdapterConfig, build_activities, open_case_record
from activities.postgres_record import PostgresCaseRecord
from activities.protocol_activities import Adapters, ProtocolActivities
from activities.sqlite_record import SqliteCaseRecord

__all__ = [
    "AdapterConfig",
    "Adapters",
    "PostgresCaseRecord",
    "ProtocolActivities",
    "SqlCaseRecord",
    "SqliteCaseRecord",
    "build_activities",
    "open_case_record",
]
