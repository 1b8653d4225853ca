"""The demo province a tutorial relies on: every role can log in, every state is there with a
real history, some cases are overdue today, and loading it twice keeps the first load."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent, OrgUnit, Region, Rule, User
from models.enums import OPEN_STATES, Event, OrgKind, RegionLevel, Role, RuleCategory, State
from workflows.admin.accounts import verify_password
from workflows.demo import NAMED_LOGINS, demo_logins, demo_overview, load_demo

# Monday 2026-11-23 09:00 in Shanghai, the day the demo is shown.
SHOWN_AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
PASSWORD = "Demo-Passw0rd"


@pytest.fixture(scope="module")
def demo(engine):
    """Loaded once per backend for this module's read-only checks, rolled back at the end."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            assert load_demo(session, password=PASSWORD, as_of=SHOWN_AT).created
            yield session
        transaction.rollback()


def rows(session, statement):
    return session.connection().execute(statement).all()


def test_the_province_has_cities_counties_and_every_kind_of_department(demo):
    levels = Counter(level for (level,) in rows(demo, sa.select(Region.level)))
    assert levels[RegionLevel.PROVINCE] == 1
    assert levels[RegionLevel.CITY] >= 2 and levels[RegionLevel.COUNTY] >= 5
    assert rows(demo, sa.select(sa.func.count()).where(Region.is_city_own_level))[0][0] == 2
    kinds = {kind for (kind,) in rows(demo, sa.select(OrgUnit.kind).distinct())}
    assert kinds == set(OrgKind)


def test_each_role_has_its_tutorial_login_with_the_demo_password(demo):
    accounts = {u.username: u for u in demo.scalars(sa.select(User))}
    for username, role, _unit, full_name in NAMED_LOGINS:
        user = accounts[username]
        assert (user.role, user.full_name, user.is_active) == (role, full_name, True)
        assert verify_password(user.password_hash, PASSWORD)
    tutorial_roles = {role for _u, role, *_ in NAMED_LOGINS}
    assert set(Role) - {Role.SYSTEM} <= tutorial_roles
    more = Counter(u.role for name, u in accounts.items() if name not in dict.fromkeys(
        n for n, *_ in NAMED_LOGINS))
    assert more[Role.HANDLER] >= 10 and more[Role.SUPERVISOR] >= 5
    listed = demo_logins(demo)
    assert [row[0] for row in listed[: len(NAMED_LOGINS)]] == [n for n, *_ in NAMED_LOGINS]


def test_there_is_a_rule_for_every_category_and_level(demo):
    pairs = set(rows(demo, sa.select(Rule.category, Rule.level)))
    for category in (RuleCategory.INDICATOR, RuleCategory.EXPENDITURE, RuleCategory.PERFORMANCE,
                     RuleCategory.HOUSEHOLD):
        assert {level for c, level in pairs if c == category} == {
            "yellow_bell", "yellow_light", "red_light"}


def test_about_300_cases_cover_every_state_and_some_are_overdue_today(demo):
    by_state = demo_overview(demo)
    assert sum(by_state.values()) == 300
    assert set(by_state) == {state.value for state in State}
    overdue = rows(demo, sa.select(sa.func.count()).where(
        Case.state.in_(list(OPEN_STATES)), Case.due_on < TODAY))[0][0]
    within = rows(demo, sa.select(sa.func.count()).where(
        Case.state.in_(list(OPEN_STATES)), Case.due_on >= TODAY))[0][0]
    assert overdue >= 10 and within >= 10


def test_every_history_was_made_by_transitions(demo):
    cases = {c.id: c for c in demo.scalars(sa.select(Case))}
    events: dict[int, list] = {}
    for event in demo.scalars(sa.select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq)):
        events.setdefault(event.case_id, []).append(event)
    for case_id, case in cases.items():
        history = events[case_id]
        assert [e.seq for e in history] == list(range(1, case.version + 1))
        assert history[0].event == Event.RAISE
        assert history[-1].to_state == case.state
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_state == before.to_state and after.at >= before.at
        assert history[-1].at <= SHOWN_AT


def test_loading_twice_keeps_the_first_load(demo):
    before = demo_overview(demo)
    users = rows(demo, sa.select(sa.func.count()).select_from(User))[0][0]
    again = load_demo(demo, password="another-password", as_of=SHOWN_AT)
    assert not again.created
    assert demo_overview(demo) == before
    assert rows(demo, sa.select(sa.func.count()).select_from(User))[0][0] == users
    assert rows(demo, sa.select(sa.func.count()).where(Region.level == RegionLevel.PROVINCE))[0][0] == 1


def test_every_active_demo_account_belongs_to_a_person_and_nobody_is_both_admin_and_operator(demo):
    """不得混岗 holds in the demo too: each account has its person (name, masked ID number,
    phone, position), and no person holds an administrator account beside an operator one."""
    from models.persons import Person
    from workflows.core.roles import ADMINS, OPERATORS

    users = rows(demo, sa.select(User.username, User.role, User.full_name, User.phone, User.person_id)
                 .where(User.is_active.is_(True)))
    assert len(users) > 50
    assert [u for u in users if u.person_id is None] == []
    persons = {p.id: p for p in rows(demo, sa.select(Person.id, Person.full_name, Person.id_number_hash,
                                                      Person.id_number_masked, Person.phone, Person.position))}
    for username, _role, full_name, phone, person_id in users:
        person = persons[person_id]
        assert (person.full_name, person.phone) == (full_name, phone), username
        assert person.position, username
        assert len(person.id_number_hash) == 64 and "**********" in person.id_number_masked
    sides = rows(demo, sa.select(User.person_id, User.role).where(User.is_active.is_(True)))
    by_person: dict[int, set[str]] = {}
    for person_id, role in sides:
        side = "admin" if role in ADMINS else "operator" if role in OPERATORS else "other"
        by_person.setdefault(person_id, set()).add(side)
    assert not [p for p, s in by_person.items() if {"admin", "operator"} <= s]
    # The administrator 孙浩 and the handler 李娜 are different people.
    admin, handler = (next(u.person_id for u in users if u.username == name) for name in ("admin", "handler"))
    assert admin != handler


def test_an_extension_into_next_year_moved_when_yuandan_was_entered(demo):
    """The demo shows the calendar re-plan: a granted extension to 1 January 2027, counted by
    Monday–Friday until the administrator entered 元旦, now ends on Monday 4 January."""
    [(number, comment, due_on, due_from)] = rows(demo, (
        sa.select(Case.number, CaseEvent.comment, Case.due_on, Case.due_from)
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(CaseEvent.event == Event.DEADLINE_REPLANNED)
    ))  # fmt: skip
    assert comment == "节假日调整，期限由 2027年1月1日 调整为 2027年1月4日"
    assert (due_on, due_from) == (date(2027, 1, 4), date(2027, 1, 1))
