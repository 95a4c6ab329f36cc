"""Start-up wiring: the domains built on members register with it what members must not import (the layers point
down). ``connect()`` runs before any service does: in crm.app.create_app, the crm command, crm.demo and the tests."""

from __future__ import annotations

from functools import partial

from crm.briefings.follow import BRIEFINGS
from crm.briefings.queries import briefings_of_member
from crm.incidents.queries import exists as incident_exists
from crm.members import follow, links, timeline
from crm.questions.follow import LATE_QUESTIONS
from crm.questions.queries import of_member as questions_of_member
from crm.thanks.follow import DISMISSALS, THANK_YOUS
from crm.thanks.queries import thanks_of_member


def connect() -> None:
    """Register every domain's hooks. Idempotent: each registration replaces the one of the same name."""
    # What follows a person through merges and erasures. The names are the keys of member_merge.moved_records:
    # merges stored under them are undone by them.
    follow.register("briefing", BRIEFINGS)
    follow.register("thank_you", THANK_YOUS)
    follow.register("late_question", LATE_QUESTIONS)
    follow.register("thanks_dismissal", DISMISSALS)
    links.register_incident_check(incident_exists)
    # The member page's timeline: the window bounds the questions, so no limit.
    timeline.register("briefing", at="briefed_at", rows=briefings_of_member)
    timeline.register("thanks", at="sent_at", rows=thanks_of_member)
    timeline.register("question", at="asked_at", rows=partial(questions_of_member, limit=None))
