"""Incident vocabularies and the status workflow."""

SEVERITIES = ["low", "medium", "high", "critical"]
STATUSES = ["detected", "acknowledged", "responding", "resolved", "reviewed"]
OPEN_STATUSES = ["detected", "acknowledged", "responding"]
FREEZING_STATUSES = ["acknowledged", "responding"]
# Forward one step at a time; a resolved incident may reopen (back to responding) if it flares up again.
TRANSITIONS = {
    "detected": ["acknowledged"],
    "acknowledged": ["responding"],
    "responding": ["resolved"],
    "resolved": ["reviewed", "responding"],  # reopened when it flares up again
    "reviewed": [],
}
STATEMENT_KINDS = ["acknowledgement", "apology", "update"]
STATEMENT_STATUSES = ["draft", "published"]
ACTION_STATUSES = ["open", "in_progress", "done"]
TALKING_POINT_STATUSES = ["draft", "approved", "superseded"]
FREEZE_BY_DEFAULT = {"high", "critical"}
