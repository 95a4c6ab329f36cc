"""Incident vocabularies and the status workflow."""

SEVERITIES = ["low", "medium", "high", "critical"]
STATUSES = ["detected", "acknowledged", "responding", "resolved", "reviewed"]
OPEN_STATUSES = ["detected", "acknowledged", "responding"]
FREEZING_STATUSES = ["acknowledged", "responding"]
# Forward one step at a time; "detected" may go straight to "responding" (acknowledging on the way).
TRANSITIONS = {
    "detected": ["acknowledged"],
    "acknowledged": ["responding", "resolved"],
    "responding": ["resolved"],
    "resolved": ["reviewed", "responding"],  # reopened when it flares up again
    "reviewed": [],
}
STATEMENT_KINDS = ["acknowledgement", "apology", "update"]
STATEMENT_STATUSES = ["draft", "published"]
ACTION_STATUSES = ["open", "in_progress", "done"]
TALKING_POINT_STATUSES = ["draft", "approved", "superseded"]
FREEZE_BY_DEFAULT = {"high", "critical"}
