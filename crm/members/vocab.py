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


TIERS = [t.value for t in Tier]
PLATFORMS = [p.value for p in Platform]
KINDS = [k.value for k in Kind]
SENTIMENTS = [s.value for s in Sentiment]
STATES = [s.value for s in State]

STATE_LABELS = {"new": "new", "active": "active", "going_quiet": "going quiet", "inactive": "inactive"}
