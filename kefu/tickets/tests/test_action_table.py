"""The one action table drives the service map, the API routes and the web form dispatch."""

from __future__ import annotations

import inspect

import pytest

from kefu.tickets import services, views, workflow


def test_every_workflow_action_a_person_takes_has_one_row():
    by_people = {t.action for t in workflow.TRANSITIONS if t.by != "system"}
    names = [a.name for a in services.ACTIONS]
    assert len(names) == len(set(names)) and set(names) == by_people
    assert set(services.ACTION_SERVICES) == by_people


@pytest.mark.parametrize("action", services.ACTIONS, ids=lambda a: a.name)
def test_each_row_names_keywords_its_service_takes(action):
    params = inspect.signature(action.service).parameters
    assert {"actor", "ticket", "version"} <= set(params)
    for p in action.params:
        assert (p.arg or p.name) in params, (action.name, p.name)


def test_the_api_has_one_route_per_row_with_the_rows_fields():
    from config.api import api

    doc = api.get_openapi_schema()
    for action in services.ACTIONS:
        op = doc["paths"][f"/api/tickets/{{number}}/{action.path}"]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        schema = doc["components"]["schemas"][ref]
        assert set(schema["properties"]) == {"version", *(p.name for p in action.params)}
        assert set(schema.get("required", [])) == {p.name for p in action.params if p.required}
        assert op["summary"] == action.summary


def test_the_web_form_refuses_an_action_not_in_the_table():
    from kefu.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        views._run_action(None, None, "auto_accept", {})
