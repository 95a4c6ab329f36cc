"""The FAQ search's parameters are checked by one function (crm/faq/schemas.py: search_params) for the search
page and the API: the page shows the message next to the field, the API answers 422 naming it."""

from __future__ import annotations

import pytest

from crm.faq.schemas import MAX_SEARCH_LIMIT, SearchParams, search_params
from tests.conftest import error


def test_each_bad_parameter_is_named():
    errors: dict[str, str] = {}
    search_params(errors, q="x" * 501, incident_id="abc", tag="t" * 41, limit=MAX_SEARCH_LIMIT + 1)
    assert errors == {
        "q": "Use at most 500 characters.",
        "incident_id": "Choose an incident from the list.",
        "tag": "Tags have at most 40 characters.",
        "limit": "Between 1 and 50.",
    }


def test_good_parameters_come_back_as_the_search_takes_them():
    errors: dict[str, str] = {}
    asked = search_params(errors, q="x" * 500, incident_id=" 7 ", tag="  Moderation   POLICY ", limit=MAX_SEARCH_LIMIT)
    assert errors == {}
    assert asked == SearchParams(q="x" * 500, incident_id=7, tag="moderation policy", limit=MAX_SEARCH_LIMIT)
    assert search_params(errors, incident_id="") == SearchParams() and errors == {}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 501}, "q"),
        ({"tag": "t" * 41}, "tag"),
        ({"limit": 0}, "limit"),
        ({"incident_id": "abc"}, "incident_id"),
    ],
)
async def test_the_api_refuses_the_same_parameters_naming_them(api, params, field):
    response = await api.get("/api/v1/faq/search", params=params)
    assert response.status_code == 422, response.text
    assert field in error(response)["fields"]
