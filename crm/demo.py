"""`crm demo`: a first admin (when there is none) and demo data. Safe to run twice."""

from __future__ import annotations

import secrets

from crm import wiring
from crm.accounts import queries, service
from crm.advocacy import demo as advocacy_demo
from crm.audit.service import Actor
from crm.briefings import demo as briefings_demo
from crm.clock import utc_now
from crm.faq import demo as faq_demo
from crm.imports import demo as imports_demo
from crm.incidents import demo as incidents_demo
from crm.members import demo as members_demo
from crm.questions import demo as questions_demo
from crm.thanks import demo as thanks_demo

DEMO_USERS = [
    ("admin@example.com", "Alex Admin", "admin"),
    ("manager@example.com", "Morgan Manager", "manager"),
    ("agent@example.com", "Ash Agent", "agent"),
    ("viewer@example.com", "Vic Viewer", "viewer"),
]


async def load_demo() -> list[str]:
    wiring.connect()  # also when loaded without the app or the crm command
    report: list[str] = []
    actor = Actor.system("demo")
    now = utc_now()
    if await queries.count_users() == 0:
        password = secrets.token_urlsafe(12)
        for email, name, role in DEMO_USERS:
            await service.create_user(email=email, name=name, role=role, password=password, actor=actor, now=now)
        report.append("Created demo accounts (one per role), all with the same password:")
        for email, _, role in DEMO_USERS:
            report.append(f"  {role:<8} {email}")
        report.append(f"  password: {password}")
        report.append("Sign in at http://127.0.0.1:8000/login as admin@example.com.")
    else:
        report.append("Accounts already exist; none created. Add one with: crm user add EMAIL --role admin")
    report.extend(await members_demo.load(now, actor))
    report.append(await imports_demo.load(now, actor))  # the airline tweets, through the import service
    admin = await _demo_actor("admin@example.com", actor)
    manager = await _demo_actor("manager@example.com", actor)
    report.append(await incidents_demo.load(now, admin, manager))
    report.append(await briefings_demo.load(now, manager))
    report.append(await advocacy_demo.load(now, admin, manager))
    report.append(await thanks_demo.load(now, manager))
    report.append(await faq_demo.load(now, manager, await _demo_actor("agent@example.com", actor)))
    report.append(await questions_demo.load(now, await _demo_actor("agent@example.com", actor)))  # after the FAQ demo
    return report


async def _demo_actor(email: str, fallback: Actor) -> Actor:
    """Demo changes are signed by the demo accounts when they exist (so two people approve)."""
    user = await queries.user_by_email(email)
    return Actor(user_id=user["id"], label=email) if user else fallback
