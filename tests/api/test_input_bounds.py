"""No input reaches the database in a form it cannot hold: huge ids, numbers as dates, 0 as a
boolean are refused as input (404/422 naming the field), never answered with a 5xx."""

from datetime import date

import pytest
from annotated_types import Ge, Le
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from sqlmodel import select

from api.app import create_app
from api.params import MAX_INT
from models import CalendarDay

HUGE = 2**63
LOW = -(2**63) - 1


def api_routes(routes):
    for route in routes:
        if hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def constraints(annotation) -> list:
    """The annotated-types constraints of a type, looking through Annotated and Optional."""
    found = list(getattr(annotation, "__metadata__", ()))
    for arg in getattr(annotation, "__args__", ()):
        found += constraints(arg)
    return found


def test_every_integer_path_or_query_parameter_is_bounded_within_64_bits(settings):
    unbounded = []
    for route in api_routes(create_app(settings).routes):
        for param in get_flat_params(route.dependant):
            if "int" not in repr(param.field_info.annotation):
                continue
            metadata = param.field_info.metadata + constraints(param.field_info.annotation)
            low = [m.ge for m in metadata if isinstance(m, Ge)]
            high = [m.le for m in metadata if isinstance(m, Le)]
            if not (low and high and low[0] >= -MAX_INT - 1 and high[0] <= MAX_INT):
                unbounded.append(f"{route.path} {param.name}")
    assert unbounded == []


@pytest.mark.parametrize("who, path", [
    ("wang_fang", "/api/v1/slips/{n}"),
    ("wang_fang", "/api/v1/slips/{n}/pdf"),
    ("wang_fang", "/api/v1/attachments/{n}"),
    ("wang_fang", "/api/v1/reports/{n}/chain"),
    ("wang_fang", "/api/v1/cases?assignee={n}"),
    ("wang_fang", "/api/v1/inbox?before_id={n}"),
    ("gao_jun", "/api/v1/oversight/{n}"),
    ("gao_jun", "/api/v1/oversight/notices/{n}/pdf"),
    ("gao_jun", "/api/v1/spot-checks/{n}"),
    ("sun_hao", "/api/v1/admin/users/{n}"),
    ("sun_hao", "/api/v1/admin/rules/{n}"),
    ("sun_hao", "/api/v1/admin/whitelist/{n}"),
    ("sun_hao", "/api/v1/imports/{n}"),
    ("sun_hao", "/api/v1/account-applications/{n}"),
    ("sun_hao", "/slips/{n}"),
    ("sun_hao", "/admin/users/{n}"),
])
def test_an_id_beyond_64_bits_is_refused_not_a_server_error(world, client, login, who, path):
    for n in (HUGE, LOW, 0):
        answer = client.get(path.format(n=n), headers=login(who), follow_redirects=False)
        assert answer.status_code in (404, 422), (path, n, answer.status_code)


def test_a_huge_id_in_a_post_names_the_field(world, client, login):
    admin = login("sun_hao")
    retried = client.post(f"/api/v1/federation/pushes/{HUGE}/retry", headers=admin)
    assert retried.status_code == 422
    assert retried.json()["errors"][0]["field"] == "push_id"
    body = {"kind": "account", "value": "6217000010012345678", "reason": "已备案", "approved_by_id": HUGE}
    created = client.post("/api/v1/admin/whitelist", json=body, headers=admin)
    assert created.status_code == 422
    assert created.json()["errors"][0]["field"] == "approved_by_id"


def test_sun_hao_asks_for_year_0_of_the_calendar_and_is_told_the_year_is_out_of_range(world, client, login):
    admin = login("sun_hao")
    for year in (0, 1899, 2101, HUGE):
        answer = client.get("/api/v1/admin/calendar", params={"year": year}, headers=admin)
        assert answer.status_code == 422, year
        assert answer.json()["errors"][0]["field"] == "year"
    assert client.get("/api/v1/admin/calendar", params={"year": 2026}, headers=admin).status_code == 200


def test_a_number_is_not_a_calendar_day_and_no_1970_holiday_is_written(world, client, login, session):
    admin = login("sun_hao")
    for day in ("0", "1700000000", "2026-13-01"):
        answer = client.put(f"/api/v1/admin/calendar/{day}", json={"kind": "holiday", "name": "假"},
                            headers=admin)
        assert answer.status_code == 422, day
        [error] = answer.json()["errors"]
        assert error["field"] == "day" and error["message"] == "应为日期（YYYY-MM-DD）", error
    assert session.exec(select(CalendarDay).where(CalendarDay.day < date(2000, 1, 1))).all() == []
    assert client.put("/api/v1/admin/calendar/2026-11-24", json={"kind": "holiday", "name": "防汛"},
                      headers=admin).status_code == 200


def test_0_is_not_a_boolean_in_a_json_body(world, client, login):
    admin = login("sun_hao")
    body = {"kind": "account", "value": "6217000010012345678", "reason": "村级报账员代领账户，已备案",
            "rule_code": "ZC-001", "approved_by_id": world.users["zhang_wei"]}
    entry = client.post("/api/v1/admin/whitelist", json=body, headers=admin).json()["id"]
    for value in (0, 1, "false", "no"):
        refused = client.patch(f"/api/v1/admin/whitelist/{entry}", json={"is_active": value}, headers=admin)
        assert refused.status_code == 422, value
        assert refused.json()["errors"][0]["field"] == "is_active"
    withdrawn = client.patch(f"/api/v1/admin/whitelist/{entry}", json={"is_active": False}, headers=admin)
    assert withdrawn.status_code == 200 and withdrawn.json()["is_active"] is False
