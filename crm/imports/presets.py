"""Built-in mappings (presets) and a guess of the mapping from a file's header."""

from __future__ import annotations

import re

from crm.imports import formats
from crm.imports.csvfile import invalid
from crm.imports.schemas import Mapping
from crm.imports.vocab import FIELDS, IGNORE

# The Twitter US Airline Sentiment data set (Crowdflower / Kaggle), as its README describes it: one row per
# tweet to a US airline, HTML entities in the text, times like "2015-02-24 11:35:52 -0800", time zones by
# their Rails names ("Eastern Time (US & Canada)").
TWITTER_AIRLINE = Mapping(
    kind="interactions",
    columns={
        "tweet_id": "external_id",
        "airline_sentiment": "sentiment",
        "airline_sentiment_confidence": IGNORE,
        "negativereason": "sentiment_reason",
        "negativereason_confidence": IGNORE,
        "airline": "member_topic",
        "airline_sentiment_gold": IGNORE,
        "name": "handle",
        "negativereason_gold": IGNORE,
        "retweet_count": IGNORE,
        "text": "text",
        "tweet_coord": IGNORE,
        "tweet_created": "occurred_at",
        "tweet_location": IGNORE,
        "user_timezone": "member_time_zone",
    },
    date_format="%Y-%m-%d %H:%M:%S %z",
    platform="x",
    kind_default="mention",
    html_unescape=True,
    url_template="https://twitter.com/{handle}/status/{external_id}",
)

CRM_MEMBERS = Mapping(
    kind="members",
    columns={c: formats.MEMBER_FIELDS.get(c, IGNORE) for c in formats.MEMBER_COLUMNS},
    csv_quoted=True,
)
CRM_INTERACTIONS = Mapping(
    kind="interactions",
    columns={c: formats.INTERACTION_FIELDS.get(c, IGNORE) for c in formats.INTERACTION_COLUMNS},
    csv_quoted=True,
)

PRESETS: dict[str, dict[str, Mapping]] = {
    "twitter-airline": {"interactions": TWITTER_AIRLINE},
    "crm": {"members": CRM_MEMBERS, "interactions": CRM_INTERACTIONS},
}
DESCRIPTIONS = {
    "twitter-airline": "Twitter US Airline Sentiment (Tweets.csv): tweets to US airlines, as interactions on x",
    "crm": "This CRM's own export format (members or interactions)",
}


def preset(name: str, kind: str) -> Mapping:
    if name not in PRESETS:
        raise invalid("preset", f"Unknown preset {name!r}: choose one of {', '.join(PRESETS)}.")
    if kind not in PRESETS[name]:
        reads = " and ".join(PRESETS[name])
        raise invalid("preset", f"The {name} preset reads {reads}, not {kind}.")
    return PRESETS[name][kind]


# A column named after a platform holds handles on it.
PLATFORM_COLUMNS = ("twitter", "x", "instagram", "facebook", "tiktok", "linkedin", "youtube", "reddit")
PLATFORM_OF_COLUMN = {"twitter": "x"}

# Header names that usually mean a field, normalised (lower case, letters and digits only), best first.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "interactions": {
        "external_id": ("externalid", "tweetid", "postid", "messageid", "commentid", "statusid", "mentionid", "id"),
        "handle": ("handle", "username", "screenname", "userhandle", "twitterhandle", "author", "user", "name"),
        "member_email": ("memberemail", "email", "emailaddress", "authoremail"),
        "member_name": ("membername", "fullname", "displayname", "authorname"),
        "member_time_zone": ("membertimezone", "usertimezone", "timezone", "tz"),
        "member_topic": ("membertopic", "topic", "brand", "product", "airline"),
        "platform": ("platform", "network", "channel", "site", "source"),
        "kind": ("kind", "interactiontype", "activitytype", "type"),
        "occurred_at": (
            "occurredat",
            "tweetcreated",
            "createdat",
            "publishedat",
            "postedat",
            "timestamp",
            "datetime",
            "date",
            "time",
            "created",
            "posted",
        ),
        "sentiment": ("sentiment", "airlinesentiment", "polarity", "tone", "mood"),
        "sentiment_reason": ("sentimentreason", "negativereason", "reason"),
        "text": ("text", "message", "content", "body", "comment", "tweet", "post"),
        "url": ("url", "link", "permalink", "posturl"),
        "troll": ("troll", "istroll"),
    },
    "members": {
        "name": ("name", "fullname", "displayname", "membername"),
        "email": ("email", "emailaddress", "mail"),
        "tier": ("tier", "level", "status"),
        "location": ("location", "city", "place", "country"),
        "language": ("language", "lang", "locale"),
        "time_zone": ("timezone", "usertimezone", "tz"),
        "notes": ("notes", "note", "comments"),
        "topics": ("topics", "tags", "interests", "topic"),
        "handles": ("handles",),
        "handle": ("handle", "username", "screenname", "twitterhandle", *PLATFORM_COLUMNS),
        "platform": ("platform", "network", "channel"),
        "followers": ("followers", "followerscount", "followercount"),
        "handle_url": ("profileurl", "profile", "url", "link"),
        "consent_private_briefing": ("consentprivatebriefing", "consent", "optin"),
        "do_not_contact": ("donotcontact", "dnc", "optout"),
    },
}


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_mapping(kind: str, header: list[str], **options) -> Mapping:
    """A mapping from the header's names: each field takes the column whose name is its best synonym (exact,
    after normalising), each column feeds one field at most; the rest is ignored. ``options`` are the
    mapping's other settings (platform, date_format, ...)."""
    if kind not in SYNONYMS:
        raise invalid("kind", f"Choose one of: {', '.join(SYNONYMS)}.")
    normal = {column: _normal(column) for column in header}
    taken: set[str] = set()
    columns: dict[str, str] = {}
    # Rank every (field, column) pair by how good a synonym the column's name is, then hand them out best first.
    pairs = []
    for field_order, (target, names) in enumerate(SYNONYMS[kind].items()):
        for rank, synonym in enumerate(names):
            for column in header:
                if normal[column] == synonym:
                    pairs.append((rank, field_order, target, column))
    fed: set[str] = set()
    for _, _, target, column in sorted(pairs):
        if target in fed or column in taken:
            continue
        columns[column] = target
        fed.add(target)
        taken.add(column)
    columns = {column: columns.get(column, IGNORE) for column in header}  # in the file's order
    assert all(t == IGNORE or t in FIELDS[kind] for t in columns.values())
    handle = next((normal[c] for c, t in columns.items() if t == "handle"), "")
    if handle in PLATFORM_COLUMNS and "platform" not in fed and not options.get("platform"):
        options = {**options, "platform": PLATFORM_OF_COLUMN.get(handle, handle)}
    return Mapping(kind=kind, columns=columns, **options)
