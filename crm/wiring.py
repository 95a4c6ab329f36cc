"""Start-up wiring: the domains built on members register with it what members must not import (the layers point
down). ``connect()`` runs before any service does: in crm.app.create_app, the crm command, crm.demo and the tests."""

from __future__ import annotations

from crm.briefings.follow import BRIEFINGS
from crm.incidents import conversation
from crm.incidents.queries import exists as incident_exists
from crm.members import follow, links
from crm.questions.follow import LATE_QUESTIONS
from crm.thanks.follow import DISMISSALS, THANK_YOUS


def connect() -> None:
    """Register every domain's hooks. Idempotent: each registration replaces the one of the same name."""
    # What follows a person through merges and erasures. The names are the keys of member_merge.moved_records:
    # merges stored under them are undone by them.
    follow.register("briefing", BRIEFINGS)
    follow.register("thank_you", THANK_YOUS)
    follow.register("late_question", LATE_QUESTIONS)
    follow.register("thanks_dismissal", DISMISSALS)
    links.register_incident_check(incident_exists)
    links.register_conversation(added=conversation.add_interactions, members_changed=conversation.recount_members)
