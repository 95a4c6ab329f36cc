"""Advocate health's fixed vocabularies: the warnings and the stay-supportive list's orders. Each Literal is the
one definition; the lists and the API schema's allowed values come from it."""

from typing import Literal, get_args

WarningCode = Literal["asked_without_thanks", "stay_in_touch", "quiet_after_incident"]
WARNING_CODES = list(get_args(WarningCode))

Sort = Literal["warnings", "last_contacted", "name", "asks", "state"]
SORT_LABELS: dict[str, str] = {
    "warnings": "most warnings",
    "last_contacted": "longest without contact",
    "name": "name",
    "asks": "most asks (12 months)",
    "state": "state (going quiet first)",
}
assert list(SORT_LABELS) == list(get_args(Sort))

# The "state" order: who needs attention first.
STATE_ORDER = {"going_quiet": 0, "inactive": 1, "new": 2, "active": 3}
