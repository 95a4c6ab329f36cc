"""FAQ vocabularies: an entry's statuses, what its change history records, and how the pages name them. Each
Literal is the one definition: the lists, the checks and the API schemas come from it."""

from typing import Literal, get_args

# A draft is not approved yet; only published entries are searchable by everyone and shown in public.
Status = Literal["draft", "published", "retired"]
STATUSES = list(get_args(Status))

# What a revision in an entry's history did.
RevisionAction = Literal["create", "update", "retire"]
ACTION_LABELS = {"create": "created", "update": "changed", "retire": "retired"}

# The fields a revision may show, as the entry page names them.
FIELD_LABELS = {
    "question": "Question",
    "answer": "Answer",
    "tags": "Tags",
    "status": "Status",
    "talking_points_version": "Talking-points version",
    "reviewed_at": "Reviewed",
}
