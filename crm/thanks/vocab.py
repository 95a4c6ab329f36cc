"""Thank-you vocabularies, shared by the service, the pages and the templates."""

from typing import Literal, get_args

from crm.briefings import vocab as briefings

# The briefing channels (dm, email, phone, in_person, other) plus the ways a thank-you goes out in public or in
# kind, in the order the forms list them.
Channel = Literal["dm", "email", "public_reply", "phone", "in_person", "gift", "other"]
CHANNELS = list(get_args(Channel))
# The briefing channels keep their labels (one label per channel value); a missing label fails at import.
CHANNEL_LABELS = {c: {**briefings.CHANNEL_LABELS, "public_reply": "public reply", "gift": "gift"}[c] for c in CHANNELS}
DEFAULT_CHANNEL = "dm"
