"""Briefing vocabularies: how a member was briefed, what came of it, what a manager said about a suggestion and
why a member is not suggested. Each Literal is the one definition: the lists, the checks and the API schemas
(which list the allowed values in the OpenAPI document) come from it."""

from typing import Literal, get_args

Channel = Literal["dm", "email", "phone", "in_person", "other"]
CHANNELS = list(get_args(Channel))
# The thank-you channels add to these (crm/thanks/vocab.py): one label per channel value across both.
CHANNEL_LABELS = {
    "dm": "direct message",
    "email": "email",
    "phone": "phone",
    "in_person": "in person",
    "other": "other",
}

Outcome = Literal["sent", "acknowledged", "declined", "no_response", "helped"]
OUTCOMES = list(get_args(Outcome))
OUTCOME_LABELS = {
    "sent": "sent",
    "acknowledged": "acknowledged",
    "declined": "declined",
    "no_response": "no response",
    "helped": "helped",
}

# A manager's feedback on a suggestion.
Verdict = Literal["accepted", "skipped", "bad_fit"]
VERDICTS = list(get_args(Verdict))
VERDICT_LABELS = {"accepted": "Accept", "skipped": "Skip", "bad_fit": "Not a good fit"}

# Why a member is left out of the suggestions, with the explanation shown (filled in by crm/briefings/suggestions.py).
ExclusionReason = Literal["do_not_contact", "no_consent", "already_briefed", "fatigue", "critic", "deleted", "skipped"]
EXCLUSION_REASONS = {
    "do_not_contact": "Marked do-not-contact.",
    "no_consent": "No recorded consent to be contacted privately.",
    "already_briefed": "Already briefed on the current talking points.",
    "fatigue": "Briefed for {n} other incidents in the last 30 days.",
    "critic": "Critical of this incident ({n} negative interactions linked to it).",
    "deleted": "Deleted, merged or erased.",
    "skipped": "Skipped for this incident ({verdict}).",
}

# The suggestion score's factors (their weights are in crm/briefings/suggestions.py), as the pages name them.
FACTOR_LABELS = {
    "conversation": "Already in the conversation",
    "engagement": "Engagement",
    "regularity": "Regularity",
    "relevance": "Relevant topics",
    "reach": "Reach",
    "goodwill": "Goodwill",
    "tier": "Tier",
}
