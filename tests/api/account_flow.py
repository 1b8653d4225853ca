"""Accounts go by application only: a test that needs an account opened, changed or revoked
hands in the application as a member of the department, has the department head review it and
the administrator approve it, over the JSON API, as people do."""

APPS = "/api/v1/account-applications"
# Who hands in and who reviews, per unit of tests.factories' world. The province office has no
# head of its own: its region's leadership reviews (workflows.admin.applications).
ROUND = {
    "anxian_agri": ("li_na", "zhang_wei"),
    "province_office": ("liu_yang", "ma_lin"),
    "ningxian_agri": ("zhao_lei", "ningxian_boss"),
}


def unit_key(world, org_unit_id: int) -> str:
    return next(k for k, u in world.units.items() if u.id == org_unit_id)


def through_application(client, login, world, body: dict, *, unit: str | None = None,
                        submitter: str | None = None, head: str | None = None,
                        admin: str = "sun_hao", id_number: str | None = None, **decision):
    """Submit `body`, have it reviewed and approved; the first refusal is returned as is,
    otherwise the administrator's answer (its JSON carries the one-time password)."""
    if unit is None:
        unit = unit_key(world, body["org_unit_id"]) if body.get("org_unit_id") else None
    default_submitter, default_head = ROUND.get(unit, ("li_na", "zhang_wei"))
    submitted = client.post(APPS, json=body, headers=login(submitter or default_submitter))
    if submitted.status_code != 201:
        return submitted
    app = submitted.json()
    head_answer = client.post(f"{APPS}/{app['id']}/head-decision", headers=login(head or default_head),
                              json={"version": app["version"], "approve": True, "opinion": "同意"})
    assert head_answer.status_code == 200, head_answer.text
    if id_number is None and body.get("kind") == "open":
        id_number = body.get("id_number")
    return client.post(f"{APPS}/{app['id']}/admin-decision", headers=login(admin), json={
        "version": head_answer.json()["version"], "approve": True, "id_number": id_number, **decision})


def opened_user_id(answer) -> int:
    assert answer.status_code == 200, answer.text
    return answer.json()["application"]["user_id"]
