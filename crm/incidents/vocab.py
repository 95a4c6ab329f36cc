"""Incident vocabularies and the status workflow. Where the API shows or takes a value, the vocabulary is a
Literal (the API schemas list its values) and its list is derived from it."""

from typing import Literal, get_args

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES = list(get_args(Severity))
Status = Literal["detected", "acknowledged", "responding", "resolved", "reviewed"]
STATUSES = list(get_args(Status))
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
TalkingPointStatus = Literal["draft", "approved", "superseded"]
TALKING_POINT_STATUSES = list(get_args(TalkingPointStatus))
FREEZE_BY_DEFAULT = {"high", "critical"}
