"""The fixed vocabularies of members and interactions."""

from enum import Enum


class Tier(str, Enum):
    member = "member"
    advocate = "advocate"
    champion = "champion"


class Platform(str, Enum):
    x = "x"
    instagram = "instagram"
    facebook = "facebook"
    tiktok = "tiktok"
    linkedin = "linkedin"
    youtube = "youtube"
    reddit = "reddit"
    forum = "forum"
    email = "email"
    other = "other"


class Kind(str, Enum):
    mention = "mention"
    comment = "comment"
    reply = "reply"
    share = "share"
    post = "post"
    review = "review"
    dm = "dm"
    event = "event"
    other = "other"


class Sentiment(str, Enum):
    positive = "positive"
    neutral = "neutral"
    negative = "negative"
    unknown = "unknown"


class State(str, Enum):
    new = "new"
    active = "active"
    going_quiet = "going_quiet"
    inactive = "inactive"


class BulkStatus(str, Enum):
    """What became of one item of a bulk request (``POST /api/v1/interactions/bulk``)."""

    created = "created"
    duplicate = "duplicate"  # platform + external id already stored, or sent earlier in the same request
    rejected = "rejected"


TIERS = [t.value for t in Tier]
PLATFORMS = [p.value for p in Platform]
KINDS = [k.value for k in Kind]
SENTIMENTS = [s.value for s in Sentiment]
STATES = [s.value for s in State]
BULK_STATUSES = [s.value for s in BulkStatus]

STATE_LABELS = {"new": "new", "active": "active", "going_quiet": "going quiet", "inactive": "inactive"}
