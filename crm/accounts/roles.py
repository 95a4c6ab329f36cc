"""Roles and what each may do: the one place role checks are decided."""

from enum import Enum


class Role(str, Enum):
    admin = "admin"
    manager = "manager"
    agent = "agent"
    viewer = "viewer"


ALL = frozenset(Role)

# permission -> roles allowed. Later domains add their own entries here.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": ALL,
    "users.manage": frozenset({Role.admin}),
    "tokens.manage": frozenset({Role.admin}),
    "audit.read": frozenset({Role.admin}),
    "settings.manage": frozenset({Role.admin}),
    "members.write": frozenset({Role.admin, Role.manager}),
    "members.erase": frozenset({Role.admin}),
    # Exports hold everyone's emails and notes: the people who run the community, as for imports.
    "exports.run": frozenset({Role.admin, Role.manager}),
    "incidents.write": frozenset({Role.admin, Role.manager}),
    "talking_points.approve": frozenset({Role.admin, Role.manager}),
    "briefings.write": frozenset({Role.admin, Role.manager}),
    "faq.write": frozenset({Role.admin, Role.manager}),
    "faq.propose": frozenset({Role.admin, Role.manager, Role.agent}),
    "faq.publicise": frozenset({Role.admin, Role.manager}),
    "questions.write": frozenset({Role.admin, Role.manager, Role.agent}),
    "thanks.write": frozenset({Role.admin, Role.manager}),
    "thanks.templates": frozenset({Role.admin, Role.manager}),
    "imports.run": frozenset({Role.admin, Role.manager}),
}

DESCRIPTIONS = {
    Role.admin: "everything, plus users, API tokens, settings and the audit log",
    Role.manager: "runs the community day to day: members, incidents, briefings, thank-yous",
    Role.agent: "reads members and answers late questions from the incident FAQ",
    Role.viewer: "read-only",
}


def allowed(role: str, permission: str) -> bool:
    return Role(role) in PERMISSIONS[permission]
