"""How briefings' fixed values read on the pages (the values themselves are in service.py)."""

from __future__ import annotations

CHANNEL_LABELS = {
    "dm": "direct message",
    "email": "email",
    "phone": "phone",
    "in_person": "in person",
    "other": "other",
}
OUTCOME_LABELS = {
    "sent": "sent",
    "acknowledged": "acknowledged",
    "declined": "declined",
    "no_response": "no response",
    "helped": "helped",
}
