"""Thank-you vocabularies, shared by the service, the pages and the templates."""

# The briefing channels (dm, email, phone, in_person, other) plus the ways a thank-you goes out in public or in kind.
CHANNELS = ["dm", "email", "public_reply", "phone", "in_person", "gift", "other"]
CHANNEL_LABELS = {
    "dm": "direct message",
    "email": "email",
    "public_reply": "public reply",
    "phone": "phone call",
    "in_person": "in person",
    "gift": "gift",
    "other": "other",
}
DEFAULT_CHANNEL = "dm"
