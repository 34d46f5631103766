"""Every side effect of an episode, each behind an adapter chosen by config.

The worker needs two names: ``AdapterConfig`` and ``build_activities``.
"""

from activities.case_record import SqliteCaseRecord
from activities.config import AdapterConfig, build_activities
from activities.protocol_activities import Adapters, ProtocolActivities

__all__ = [
    "AdapterConfig",
    "Adapters",
    "ProtocolActivities",
    "SqliteCaseRecord",
    "build_activities",
]
