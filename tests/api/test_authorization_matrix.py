"""The authorization matrix: every route × every role × in scope / out of scope.

Generated from the route table of the real app, so a route added tomorrow is in the matrix
tomorrow: a route that does not declare who may call it (an `Allow` dependency from
api/deps.py) fails, and a path parameter nobody knows how to fill fails with a message
saying where to add a resolver. What is checked, per route and role:
  - nobody without a token gets in (401, or for an HTML page a redirect to /login);
  - a role the route does not allow is refused (403), whatever the case;
  - a role the route allows is let through for a case in its scope (any answer but 401/403:
    an empty body may well be 422);
  - a case outside the caller's scope is never served (403 or 404, never 2xx).

One world per module and backend (building it per test would dominate the run); each test
runs in a savepoint of that world's transaction, so per-test rollback still holds.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.deps import SESSION_COOKIE, Allow, get_session
from models import Case, OrgUnit, Region
from models.enums import Event, OrgKind, RegionLevel, Role
from models.settings import Settings
from tests.factories import NOW, PASSWORD, World, build_world, new_case, verification_slip
from workflows.admin.accounts import create_user
from workflows.cases.transition import transition
from workflows.core.actors import load_actor
from workflows.escalation.extensions import request_extension

# Routes anyone may call: logging in, health, the API's own documentation, static files.
PUBLIC = {
    ("POST", "/api/v1/auth/token"),
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/docs"),
    ("GET", "/docs-assets"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/static"),
    # A child deployment's signed monthly report: the JWS is the credential, not a login.
    ("POST", "/api/v1/federation/reports"),
}

# One account per role (Role minus SYSTEM, which is not a login). Most sit in Anxian so that a
# Ningxian case is out of their scope; province-wide ones get a case in another province.
ROLE_USERS: dict[Role, str] = {
    Role.ADMIN: "sun_hao",
    Role.HANDLER: "li_na",
    Role.SUPERVISOR: "zhang_wei",
    Role.TREASURY: "anxian_treasurer",
    Role.POVERTY_OFFICE: "anxian_poverty",
    Role.SUPERVISION: "province_inspector",
    Role.LEADER: "anxian_leader",
    Role.PROVINCE: "province_viewer",
    Role.AUDITOR: "liu_yang",
    Role.INTEGRATION: "platform",
}
ANONYMOUS = "anonymous"
DEPARTMENT_BOUND = {Role.HANDLER, Role.SUPERVISOR}


# ---------------------------------------------------------------- the world the matrix uses


@dataclass
class CaseRefs:
    """One case with a slip (and an attachment on it), as path parameters need them, and the
    account of its handler (admins manage accounts only within their own region)."""

    case_id: int
    number: str
    region_path: str
    org_unit_id: int
    slip_id: int
    attachment_id: int | None
    user_id: int
    request_id: int | None = None  # the handler's pending extension request on the case
    report_id: int | None = None  # a monthly report of the case's region with its unit's part
    oversight_id: int | None = None  # a special inspection of the case's region


@dataclass
class Matrix:
    world: World
    connection: object
    var_dir: Path
    cases: dict[str, CaseRefs] = field(default_factory=dict)  # in, ningxian, other_dept, elsewhere
    users: dict[str, int] = field(default_factory=dict)
    whitelist_entry_id: int | None = None
    application_id: int | None = None
    notice_id: int | None = None
    received_id: int | None = None
    push_id: int | None = None
    peer_id: int | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    current_session: Session | None = None


def _extra_users(session: Session, world: World) -> None:
    def unit(key, code, name, kind, region) -> None:
        if key in world.units:  # build_world has it already
            return
        row = OrgUnit(code=code, name=name, kind=kind, region_id=world.regions[region].id)
        session.add(row)
        session.flush()
        world.units[key] = row

    unit("anxian_poverty", "410121-TP", "安县财政局脱贫办", OrgKind.POVERTY_OFFICE, "anxian")
    unit("anxian_leaders", "410121-LD", "安县财政局领导", OrgKind.LEADERSHIP, "anxian")
    people = [
        ("anxian_treasurer", "吴强", Role.TREASURY, "anxian_treasury"),
        ("anxian_poverty", "郑丽", Role.POVERTY_OFFICE, "anxian_poverty"),
        ("province_inspector", "冯刚", Role.SUPERVISION, "province_supervision"),
        ("anxian_leader", "钱明", Role.LEADER, "anxian_leaders"),
        ("province_viewer", "何静", Role.PROVINCE, "province_office"),
    ]
    for username, name, role, unit_key in people:
        user = create_user(session, username=username, full_name=name, role=role,
                           org_unit_id=world.units[unit_key].id, password=PASSWORD)
        world.users[username] = user.id
        world.actors[username] = load_actor(session, user.id)


def _elsewhere(session: Session, world: World) -> None:
    """A neighbouring province, out of scope even for province-wide roles."""
    province = Region(code="420000", name="江汉省", level=RegionLevel.PROVINCE, path="/420000/")
    session.add(province)
    session.flush()
    county = Region(code="420121", name="平县", level=RegionLevel.COUNTY, parent_id=province.id,
                    path="/420000/420121/")
    session.add(county)
    session.flush()
    world.regions["elsewhere"] = county
    unit = OrgUnit(code="420121-NC", name="平县财政局农财股", kind=OrgKind.AGRI_FINANCE, region_id=county.id)
    session.add(unit)
    session.flush()
    world.units["elsewhere_agri"] = unit
    user = create_user(session, username="pingxian_handler", full_name="孔亮", role=Role.HANDLER,
                       org_unit_id=unit.id, password=PASSWORD)
    world.users["pingxian_handler"] = user.id
    world.actors["pingxian_handler"] = load_actor(session, user.id)


def _attach(session: Session, world: World, slip_id: int, username: str, files_dir: Path) -> int | None:
    try:
        from workflows.cases.attachments import store_attachment
    except ImportError:  # not built yet: attachment routes then fail with a clear message
        return None
    return store_attachment(
        session, files_dir=files_dir, slip_id=slip_id, actor=world.actors[username],
        filename="核实材料.pdf", content_type="application/pdf", data=b"%PDF-1.4\n%matrix\n",
        max_bytes=1024 * 1024, as_of=NOW,
    )


def _verified_case(session, world, files_dir, *, region, unit, handler) -> CaseRefs:
    case_id = new_case(session, world, "yellow", region=region, unit=unit, assignee=handler)
    case = session.get(Case, case_id)
    result = transition(
        session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors[handler],
        version=case.version, as_of=NOW, slip=verification_slip(),
    )
    session.refresh(case)
    request_id = request_extension(
        session, case_id=case_id, actor=world.actors[handler], version=case.version, as_of=NOW,
        reason="需调阅乡镇拨付凭证",
    ).request_id
    session.refresh(case)
    return CaseRefs(
        case_id=case_id, number=case.number, region_path=world.regions[region].path,
        org_unit_id=world.units[unit].id, slip_id=result.slip_id,
        attachment_id=_attach(session, world, result.slip_id, handler, files_dir),
        # Li Na files the in-scope slip; the account an admin manages there is Wang Fang's.
        user_id=world.users["wang_fang" if handler == "li_na" else handler],
        request_id=request_id,
    )


def _inspection(session: Session, world: World, region: str) -> int:
    """A special inspection of the region (as the monthly streak job opens them)."""
    from models.oversight import OversightCase, OversightKind, OversightState

    case = OversightCase(
        number=f"ZD-{world.regions[region].code}-0001", kind=OversightKind.INSPECTION,
        state=OversightState.OPEN, region_id=world.regions[region].id,
        owner_org_unit_id=world.units["province_supervision"].id, streak_start=date(2026, 8, 1),
        streak_end=date(2026, 10, 1), opened_at=NOW,
    )  # fmt: skip
    session.add(case)
    session.flush()
    return case.id


def _whitelist_entry(session: Session, world: World) -> int:
    from models.enums import WhitelistKind
    from models.whitelist import WhitelistEntry

    entry = WhitelistEntry(
        kind=WhitelistKind.PAYEE, value="安县城关镇敬老院", reason="财政供养单位，经审定不予预警",
        approved_by_id=world.users["zhang_wei"], created_by_id=world.users["sun_hao"],
    )
    session.add(entry)
    session.flush()
    return entry.id


def _account_application(session: Session, world: World) -> int:
    """An application to change Wang Fang's account, handed in by Li Na."""
    from models.enums import ApplicationKind, ApplicationStatus
    from models.persons import AccountApplication

    application = AccountApplication(
        kind=ApplicationKind.CHANGE, status=ApplicationStatus.SUBMITTED, user_id=world.users["wang_fang"],
        org_unit_id=world.units["anxian_agri"].id, full_name="王芳", role=Role.HANDLER,
        submitted_by_id=world.users["li_na"],
    )
    session.add(application)
    session.flush()
    return application.id


def _notice(session: Session, world: World) -> int:
    """A 通报 of Ningxian for October, issued by Xu Qing."""
    from datetime import date

    from models.oversight import CirculatedNotice

    notice = CirculatedNotice(
        number="TB-202610-01", month=date(2026, 10, 1), issuer_region_id=world.regions["province"].id,
        threshold=0.8, issued_by_id=world.users["xu_qing"], issued_at=NOW,
        regions=[{"region_id": world.regions["ningxian"].id, "region_name": "宁县", "closed": 1,
                  "on_time": 0, "overdue_open": 1, "rate": 0.0}],
    )
    session.add(notice)
    session.flush()
    return notice.id


def _reports(session: Session, world: World, m: Matrix) -> None:
    """A monthly report per case with that case's department as its only part (so another
    department's report is out of its scope), a received report, a peer and a push."""
    from datetime import date

    from models.federation import (
        FederationPeer,
        FederationPush,
        PeerRelation,
        PushStatus,
        ReceivedReport,
    )
    from models.reports import MonthlyReport, MonthlyReportPart, ReportStatus

    months = {"in": date(2026, 10, 1), "other_dept": date(2026, 9, 1)}
    for key, case in m.cases.items():
        region_id = session.get(Case, case.case_id).region_id
        report = MonthlyReport(region_id=region_id, month=months.get(key, date(2026, 10, 1)),
                               status=ReportStatus.DRAFTING, due_on=date(2026, 11, 6))
        session.add(report)
        session.flush()
        session.add(MonthlyReportPart(report_id=report.id, org_unit_id=case.org_unit_id))
        case.report_id = report.id
    peer = FederationPeer(deployment_id="anxian-county", name="安县财政局", relation=PeerRelation.CHILD,
                          kid="k1", public_pem="-", region_id=world.regions["anxian"].id)
    session.add(peer)
    session.flush()
    received = ReceivedReport(peer_id=peer.id, jti="matrix-jti-0001", region_id=world.regions["anxian"].id,
                              month=date(2026, 10, 1), version=1, issued_at=NOW,
                              payload={"figures": {}, "figures_sha256": ""}, token="t", receipt="r")
    push = FederationPush(report_id=m.cases["in"].report_id, peer_id=peer.id, status=PushStatus.DEAD,
                          next_attempt_at=NOW)
    session.add_all([received, push])
    session.flush()
    m.received_id, m.push_id, m.peer_id = received.id, push.id, peer.id


@pytest.fixture(scope="module")
def matrix(engine, tmp_path_factory) -> Iterator[Matrix]:
    var_dir = tmp_path_factory.mktemp("matrix")
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint",
                     expire_on_commit=False) as session:
            world = build_world(session)
            _extra_users(session, world)
            _elsewhere(session, world)
            files_dir = var_dir / "files"
            files_dir.mkdir(parents=True, exist_ok=True)
            m = Matrix(world=world, connection=connection, var_dir=var_dir)
            m.cases["in"] = _verified_case(session, world, files_dir, region="anxian",
                                           unit="anxian_agri", handler="li_na")
            m.cases["ningxian"] = _verified_case(session, world, files_dir, region="ningxian",
                                                 unit="ningxian_agri", handler="zhao_lei")
            m.cases["other_dept"] = _verified_case(session, world, files_dir, region="anxian",
                                                   unit="anxian_budget", handler="chen_jie")
            m.cases["elsewhere"] = _verified_case(session, world, files_dir, region="elsewhere",
                                                  unit="elsewhere_agri", handler="pingxian_handler")
            # The department is no scope of an oversight case: "other_dept" gets Ningxian's.
            for key, region in (("in", "anxian"), ("ningxian", "ningxian"), ("elsewhere", "elsewhere")):
                m.cases[key].oversight_id = _inspection(session, world, region)
            m.cases["other_dept"].oversight_id = m.cases["ningxian"].oversight_id
            m.whitelist_entry_id = _whitelist_entry(session, world)
            m.application_id = _account_application(session, world)
            m.notice_id = _notice(session, world)
            _reports(session, world, m)
            m.users = dict(world.users)
            session.commit()
        yield m
        outer.rollback()


# These replace tests/api/conftest.py's fixtures of the same names for this module only, so
# `client` and `login` run against the module's world inside a per-test savepoint.
@pytest.fixture
def session(matrix) -> Iterator[Session]:
    savepoint = matrix.connection.begin_nested()
    with Session(bind=matrix.connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False) as session:
        yield session
    if savepoint.is_active:
        savepoint.rollback()


@pytest.fixture
def world(matrix) -> World:
    return matrix.world


@pytest.fixture(scope="module")
def matrix_app(matrix, database_url):
    """One app per module: FastAPI builds its route table lazily on an app's first request
    (~0.2 s), which per test would be most of the matrix's run time."""
    app = create_app(Settings(database_url=database_url, demo=True, var_dir=matrix.var_dir))

    def test_session() -> Iterator[Session]:
        session = matrix.current_session
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise

    app.dependency_overrides[get_session] = test_session
    return app


@pytest.fixture
def app(matrix_app, matrix, session):
    """The module's app, its requests in this test's session (see tests/api/conftest.py)."""
    matrix.current_session = session
    yield matrix_app
    matrix.current_session = None


@pytest.fixture
def login(client, matrix):
    """tests/api/conftest.py's login, once per user and world: a token outlives the rollback
    of the login's own audit rows, and logging in 1,000 times would dominate the run."""
    from tests.api.conftest import token_for

    def headers_for(username: str) -> dict[str, str]:
        if username not in matrix.tokens:
            matrix.tokens[username] = token_for(client, username)
        return {"Authorization": f"Bearer {matrix.tokens[username]}"}

    return headers_for


# ---------------------------------------------------------------- reading the route table


def declared_roles(route) -> frozenset[Role] | None:
    """The roles every `Allow` in the route's dependency tree lets through (None: undeclared).

    `route` is a RouteContext: the route as included (router prefix and router-level
    dependencies applied), which is what requests actually go through.
    """
    found: list[frozenset[Role]] = []

    def walk(dependant) -> None:
        for sub in dependant.dependencies:
            if isinstance(sub.call, Allow):
                found.append(sub.call.roles)
            walk(sub)

    walk(route.dependant)
    return frozenset.intersection(*found) if found else None


def path_params(path: str) -> list[str]:
    return re.findall(r"{([^}:]+)(?::[^}]*)?}", path)


def _route_table() -> list[tuple[str, str, object]]:
    """(method, path, route) for every route the app serves, routers included.

    FastAPI ≥ 0.150 keeps included routers lazily in `app.routes`; iter_route_contexts()
    flattens them into what requests are matched against.
    """
    app = create_app(Settings(database_url="sqlite://", demo=True))
    rows = []
    for route in iter_route_contexts(app.routes):
        methods = route.methods if isinstance(route.original_route, APIRoute) else None
        for method in sorted((methods or {"GET"}) - {"HEAD"}):
            rows.append((method, route.path, route))
    return rows


ROUTES = _route_table()


def _is_api_route(route) -> bool:
    return isinstance(route.original_route, APIRoute)

# Path parameters bound to a region (a case, its slips, an account): their value decides
# whether the request is in the caller's scope.
CASE_PARAMS: dict[str, Callable[[CaseRefs], object]] = {
    "user_id": lambda c: c.user_id,
    "number": lambda c: c.number,
    "case_number": lambda c: c.number,
    "case_id": lambda c: c.case_id,
    "id": lambda c: c.slip_id,
    "slip_id": lambda c: c.slip_id,
    "attachment_id": lambda c: c.attachment_id,
    "request_id": lambda c: c.request_id,
    "report_id": lambda c: c.report_id,
    # The monthly summary of the case's region (a region code: 410121 for Anxian).
    "region_code": lambda c: c.region_path.rstrip("/").rsplit("/", 1)[-1],
    "oversight_id": lambda c: c.oversight_id,
}
# Path parameters not bound to a case (admin data): one value, no scope.
OTHER_PARAMS: dict[str, Callable[[Matrix], object]] = {
    "username": lambda m: "wang_fang",
    "rule_id": lambda m: m.world.rules["yellow"].id,
    "code": lambda m: m.world.rules["yellow"].code,
    "rule_code": lambda m: m.world.rules["yellow"].code,
    "year": lambda m: 2026,
    "day": lambda m: "2026-10-01",
    "date": lambda m: "2026-10-01",
    "entry_id": lambda m: m.whitelist_entry_id,
    "application_id": lambda m: m.application_id,
    "doc": lambda m: "inspection_notice",
    "notice_id": lambda m: m.notice_id,
    # No draw in the matrix's world: an allowed role gets 404, a refused one 403.
    "draw_id": lambda m: 1,
    "check_id": lambda m: 1,
    "whitelist_id": lambda m: m.whitelist_entry_id,
    "warning_type": lambda m: "fund_risk",
    # A duty report's evidence file, by content hash (the case's number decides the scope).
    "sha256": lambda m: "0" * 64,
    "received_id": lambda m: m.received_id,
    "push_id": lambda m: m.push_id,
    "peer_id": lambda m: m.peer_id,
    "month": lambda m: "2026-11",
    # An import that does not exist answers 404 to whoever may read imports.
    "import_id": lambda m: 999_999,
    "kind": lambda m: "warnings",
}


def _case_version(session: Session, case: CaseRefs) -> int:
    return session.get(Case, case.case_id).version


_PDF = ("核实材料.pdf", b"%PDF-1.4\n%matrix\n", "application/pdf")
_SLIP = {"kind": "verification", "methods": ["phone"], "findings": "经电话核实，用途与批复不符。",
         "conclusion": "violation", "violation_type": "misappropriation",
         "amount_involved": "100.00", "filler_name": "李娜", "filler_phone": "0371-12345678"}

# Realistic request bodies, sent for out-of-scope checks: an empty body would be refused as
# invalid (422) before the scope is ever looked at, which proves nothing. Keyed by
# "METHOD path"; each gives the keyword arguments of the request for a case. A route whose
# case is named in the body (not the path) is listed here too and so gets scope checks.
BODIES: dict[str, Callable[[CaseRefs, Session], dict]] = {
    "POST /api/v1/slips/{slip_id}/amend": lambda c, s: {
        "json": {"version": 1, "reason": "补充核实情况", "slip": _SLIP}},
    "POST /api/v1/slips/{slip_id}/attachments": lambda c, s: {"files": [("attachments", _PDF)]},
    "POST /api/v1/cases/{number}/transitions": lambda c, s: {
        "json": {"event": "start_rectify", "version": _case_version(s, c)}},
    "PATCH /api/v1/admin/users/{user_id}": lambda c, s: {"json": {"email": "wangfang@example.cn"}},
    "POST /api/v1/cases/{number}/duty-report": lambda c, s: {
        "data": {"version": str(_case_version(s, c)), "done_at": "2026-11-23", "comment": "已导入指标文件"}},
    "POST /api/v1/admin/users/{user_id}/password": lambda c, s: {"json": {"password": None}},
    "POST /api/v1/oversight/{oversight_id}/transitions": lambda c, s: {
        "json": {"event": "start", "expected_version": 1}},
    "POST /oversight/{oversight_id}/transitions": lambda c, s: {
        "data": {"event": "start", "version": "1"}},
    "POST /api/v1/transitions/batch": lambda c, s: {
        "json": {"event": "start_rectify", "cases": [{"number": c.number, "version": _case_version(s, c)}]}},
    "POST /api/v1/reports/{report_id}/transitions": lambda c, s: {
        "json": {"event": "compile", "version": 1}},
    "POST /api/v1/reports/{report_id}/resubmit": lambda c, s: {
        "json": {"version": 1, "reason": "数据有误，重新报送"}},
    "POST /reports/{report_id}/chain": lambda c, s: {
        "data": {"event": "compile", "version": "1", "comment": ""}},
}


@dataclass(frozen=True)
class Check:
    method: str
    path: str
    subject: str  # a Role value or "anonymous"
    scope: str  # "in-scope", "out-of-scope", "other-department" or "no-case"
    allowed: frozenset[Role] | None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} × {self.subject} × {self.scope}"


def _checks() -> list[Check]:
    checks = []
    for method, path, route in ROUTES:
        if (method, path) in PUBLIC or not _is_api_route(route):
            continue
        allowed = declared_roles(route)
        if allowed is None:
            continue  # test_every_route_declares_who_may_call_it fails for it
        case_bound = any(p in CASE_PARAMS for p in path_params(path)) or f"{method} {path}" in BODIES
        checks.append(Check(method, path, ANONYMOUS, "in-scope" if case_bound else "no-case", allowed))
        for role in ROLE_USERS:
            if not case_bound:
                checks.append(Check(method, path, role.value, "no-case", allowed))
                continue
            checks.append(Check(method, path, role.value, "in-scope", allowed))
            checks.append(Check(method, path, role.value, "out-of-scope", allowed))
            if role in DEPARTMENT_BOUND:
                checks.append(Check(method, path, role.value, "other-department", allowed))
    return checks


CHECKS = _checks()


def _case_for(check: Check, m: Matrix) -> CaseRefs:
    if check.scope in ("in-scope", "no-case"):
        return m.cases["in"]
    if check.scope == "other-department":
        return m.cases["other_dept"]
    username = ROLE_USERS[Role(check.subject)] if check.subject != ANONYMOUS else None
    actor = m.world.actors[username]
    ningxian = m.cases["ningxian"]
    if not actor.sees_region(ningxian.region_path):
        return ningxian
    return m.cases["elsewhere"]


def resolve_path(check: Check, m: Matrix) -> str:
    case = _case_for(check, m)
    path = check.path
    for name in path_params(check.path):
        if name in CASE_PARAMS:
            value = CASE_PARAMS[name](case)
            if value is None:
                pytest.fail(f"{check.path}: no value for {{{name}}} yet (is workflows.cases.attachments built?)")
        elif name in OTHER_PARAMS:
            value = OTHER_PARAMS[name](m)
        else:
            pytest.fail(
                f"{check.method} {check.path}: the authorization matrix does not know how to fill the "
                f"path parameter {{{name}}}. Add a resolver for it to CASE_PARAMS (values bound to a "
                f"case, so scope can be tested) or OTHER_PARAMS in tests/api/test_authorization_matrix.py."
            )
        path = re.sub(r"{" + re.escape(name) + r"(?::[^}]*)?}", str(value), path)
    return path


def _is_login_redirect(response) -> bool:
    return response.status_code in (302, 303, 307) and "/login" in response.headers.get("location", "")


def _is_page(path: str) -> bool:
    return not path.startswith("/api/")


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _ in ROUTES],
    ids=[f"{m} {p}" for m, p, _ in ROUTES],
)
def test_every_route_declares_who_may_call_it(method, path):
    if (method, path) in PUBLIC or any(path.startswith(p + "/") for _, p in PUBLIC if p == "/static"):
        return
    route = next(r for m, p, r in ROUTES if (m, p) == (method, path))
    assert _is_api_route(route), f"{method} {path} is not an APIRoute and not in PUBLIC"
    assert declared_roles(route) is not None, (
        f"{method} {path} does not declare who may call it: add "
        f"dependencies=[Depends(allow(ROLES))] (api/deps.py) to the route or its router"
    )


def test_the_matrix_covers_every_declared_route():
    declared = {(m, p) for m, p, r in ROUTES if _is_api_route(r) and declared_roles(r) is not None}
    covered = {(c.method, c.path) for c in CHECKS}
    assert declared - {k for k in declared if k in PUBLIC} <= covered


def _send(client: TestClient, check: Check, url: str, headers: dict, body: dict) -> object:
    """The API with a bearer header; pages as a browser: session cookie plus CSRF token."""
    if not _is_page(check.path):
        return client.request(check.method, url, headers=headers, follow_redirects=False, **body)
    token = headers["Authorization"].removeprefix("Bearer ")
    client.cookies.set(SESSION_COOKIE, token)
    data = None
    if check.method in ("POST", "PUT", "PATCH", "DELETE"):
        # A valid token, so that only the role decides the answer (not a missing token).
        data = {**body.pop("data", {}), "csrf_token": _csrf_for(client, token)}
    return client.request(check.method, url, data=data, follow_redirects=False, **body)


def _csrf_for(client: TestClient, session_cookie: str) -> str:
    from api.pages.csrf import csrf_token

    browser = SimpleNamespace(cookies={SESSION_COOKIE: session_cookie}, app=client.app,
                              state=SimpleNamespace())
    return csrf_token(browser)


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_route_answers_only_whom_it_declares(check: Check, matrix, client, login, session):
    url = resolve_path(check, matrix)
    body = {}
    realistic = BODIES.get(f"{check.method} {check.path}")
    if realistic is not None and check.scope in ("out-of-scope", "other-department"):
        body = realistic(_case_for(check, matrix), session)
    if check.subject == ANONYMOUS:
        response = client.request(check.method, url, follow_redirects=False)
        refused = response.status_code == 401 or (_is_page(check.path) and _is_login_redirect(response))
        assert refused, f"{check.id}: without a token got {response.status_code} {response.text[:300]}"
        return
    role = Role(check.subject)
    headers = login(ROLE_USERS[role])
    response = _send(client, check, url, headers, body)
    status = response.status_code
    detail = f"{check.id}: got {status} {response.text[:300]}"
    if role not in check.allowed:
        assert status == 403, detail
    elif check.scope in ("in-scope", "no-case"):
        assert status not in (401, 403), detail
        # A page that sends a logged-in user to /login did not recognise them (after a form
        # post a redirect is the normal answer: logging out lands on /login).
        assert check.method != "GET" or not _is_login_redirect(response), detail
    else:
        assert status in (403, 404) or _batch_refused_for_scope(response), detail


def _batch_refused_for_scope(response) -> bool:
    """A batch answers 409 "none applied" with each refused case's reason; refused because
    the case is out of scope is a denial too (nothing was applied)."""
    if response.status_code != 409:
        return False
    body = response.json()
    items = body.get("items") or []
    return body.get("code") == "batch_refused" and bool(items) and all(
        i.get("code") in ("out_of_scope", "not_found") for i in items)


# Per-test rollback still holds with one world per module: what one test writes (here through
# the app, committed by the request) is gone in the next. The two run in this order.
def test_rollback_1_sun_hao_changes_wang_fang_s_email_within_one_test(matrix, client, login, session):
    from models import User

    wang = matrix.users["wang_fang"]
    response = client.post(f"/admin/users/{wang}", headers=login("sun_hao"),
                           data={"email": "rollback@example.cn"}, follow_redirects=False)
    assert response.status_code == 303
    assert session.get(User, wang).email == "rollback@example.cn"


def test_rollback_2_wang_fang_s_email_is_back_in_the_next_test(matrix, session):
    from models import User

    assert session.get(User, matrix.users["wang_fang"]).email != "rollback@example.cn"
