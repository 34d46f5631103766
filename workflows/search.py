"""Search attributes: what visibility may know of an episode.

Only ids, the phase, the next due time and the overdue flag; never a name,
a birth date or anything else about the youth.
"""

from temporalio.common import SearchAttributeKey

CASE_ID = SearchAttributeKey.for_keyword("CaseId")
OFFICER_ID = SearchAttributeKey.for_keyword("OfficerId")
EPISODE_PHASE = SearchAttributeKey.for_keyword("EpisodePhase")
NEXT_DUE_AT = SearchAttributeKey.for_datetime("NextDueAt")
OVERDUE = SearchAttributeKey.for_bool("Overdue")

SEARCH_ATTRIBUTES = (CASE_ID, OFFICER_ID, EPISODE_PHASE, NEXT_DUE_AT, OVERDUE)

TASK_QUEUE = "missing-youth"
WORKFLOW_ID_PREFIX = "missing-youth-"


def workflow_id(case_id: str) -> str:
    """One workflow id per case, so a second open episode is refused."""
    return f"{WORKFLOW_ID_PREFIX}{case_id}"
