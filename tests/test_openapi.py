"""The API's fixed vocabularies: the OpenAPI document lists their values, from the one definition each (the vocab
modules), whether a value is refused on decoding (a Literal or Enum) or checked by the service; a refused value
is named with the allowed ones, as the services' own checks do."""

from __future__ import annotations

from crm.briefings import vocab as briefings
from crm.faq import vocab as faq
from crm.imports import vocab as imports
from crm.incidents import vocab as incidents
from crm.members import vocab as members
from crm.thanks import vocab as thanks
from tests.conftest import error


def enum(schema: dict, component: str, field: str) -> list[str]:
    components = schema["components"]["schemas"]
    prop = components[component]["properties"][field]
    if "enum" in prop:
        return prop["enum"]
    if "$ref" in prop:  # an Enum is a component of its own
        return components[prop["$ref"].rsplit("/", 1)[-1]]["enum"]
    # "or unset" / "or null" fields: the values are in the one arm that has them
    values = [arm["enum"] for arm in prop.get("oneOf", []) if "enum" in arm]
    assert len(values) == 1, (component, field, prop)
    return values[0]


async def test_the_schema_lists_the_allowed_values(as_user):
    schema = (await (await as_user("alice")).get("/schema")).json()
    assert enum(schema, "IncidentCreate", "severity") == incidents.SEVERITIES
    assert enum(schema, "IncidentUpdate", "severity") == incidents.SEVERITIES
    assert enum(schema, "IncidentRead", "status") == incidents.STATUSES
    assert enum(schema, "TransitionRequest", "to") == incidents.STATUSES
    assert enum(schema, "BriefingCreate", "channel") == briefings.CHANNELS
    assert enum(schema, "BriefingUpdate", "outcome") == briefings.OUTCOMES
    assert enum(schema, "FeedbackRequest", "verdict") == briefings.VERDICTS
    assert enum(schema, "ThankYouCreate", "channel") == thanks.CHANNELS
    assert enum(schema, "FaqCreate", "status") == faq.STATUSES
    assert enum(schema, "FaqUpdate", "status") == faq.STATUSES
    assert enum(schema, "LateQuestionCreate", "platform") == members.PLATFORMS
    assert enum(schema, "InteractionRead", "kind") == members.KINDS
    assert enum(schema, "InteractionRead", "sentiment") == members.SENTIMENTS
    assert enum(schema, "MemberRead", "tier") == members.TIERS
    assert enum(schema, "ImportRead", "status") == imports.STATUSES
    assert enum(schema, "ImportRead", "kind") == imports.KINDS
    assert enum(schema, "ImportAccepted", "status") == imports.STATUSES
    assert enum(schema, "IssueRead", "problem") == [p.value for p in imports.Problem]


async def test_a_value_outside_a_vocabulary_is_refused_naming_the_field_and_the_allowed_values(client, auth):
    r = await client.post("/api/v1/incidents", json={"title": "Ad", "severity": "huge"}, headers=auth["bob"])
    assert r.status_code == 422
    assert r.json() == {
        "error": {
            "code": "invalid_input",
            "message": "Some fields need attention.",
            "fields": {"severity": "Choose one of: low, medium, high, critical."},
        }
    }
    member = {"name": "Jane", "handles": [{"platform": "myspace", "handle": "jane"}]}
    r = await client.post("/api/v1/members", json=member, headers=auth["bob"])
    assert r.status_code == 422
    assert error(r)["fields"] == {"handles[0].platform": f"Choose one of: {', '.join(members.PLATFORMS)}."}
