"""The demo province: regions, departments, one login per role, rules, and ~300 cases
whose histories were made by `transition()` itself, step by step, at past moments."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Case, OrgUnit, Region, Rule, User, WhitelistEntry
from models.enums import (
    Conclusion,
    DayKind,
    Event,
    Level,
    Measure,
    OrgKind,
    RegionLevel,
    Role,
    RuleCategory,
    SlipKind,
    State,
    VerifyMethod,
    ViolationType,
    WarningType,
    WhitelistKind,
)
from workflows.admin.accounts import create_user, hash_password
from workflows.admin.calendar import set_calendar_day
from workflows.admin.persons import check_separation, record_person, with_check_character
from workflows.cases.slips import SlipInput
from workflows.cases.transition import transition
from workflows.core.actors import Actor, load_actor
from workflows.core.calendar import LOCAL_TZ, load_calendar, local_date
from workflows.core.clock import now_utc
from workflows.escalation.extensions import decide_extension, request_extension
from workflows.intake.intake import raise_case
from workflows.intake.routing import route
from workflows.oversight.opening import evaluate_streaks
from workflows.reporting.drafts import draft_monthly_reports

PROVINCE_CODE = "419000"
DEMO_SOURCE = "demo"

# (code, name, [(code, name, is city's own level)])
CITIES = [
    ("419100", "平川市", [("419101", "平川市本级", True), ("419121", "安县", False),
                        ("419122", "宁县", False), ("419123", "清水县", False)]),
    ("419200", "青河市", [("419201", "青河市本级", True), ("419221", "河口县", False),
                        ("419222", "柳林县", False), ("419223", "石桥区", False)]),
]
COUNTY_UNITS = [("NC", "农财股", OrgKind.AGRI_FINANCE), ("YS", "预算股", OrgKind.BUDGET),
                ("GK", "国库股", OrgKind.TREASURY), ("TP", "脱贫办", OrgKind.POVERTY_OFFICE)]
CITY_UNITS = [("NC", "农业科", OrgKind.AGRI_FINANCE), ("YS", "预算科", OrgKind.BUDGET),
              ("GK", "国库科", OrgKind.TREASURY), ("JD", "监督检查科", OrgKind.SUPERVISION),
              ("TP", "脱贫办", OrgKind.POVERTY_OFFICE), ("LD", "局领导", OrgKind.LEADERSHIP)]
PROVINCE_UNITS = [("NC", "农业农村处", OrgKind.AGRI_FINANCE), ("YS", "预算处", OrgKind.BUDGET),
                  ("GK", "国库处", OrgKind.TREASURY), ("JD", "监督检查局", OrgKind.SUPERVISION),
                  ("TP", "脱贫办", OrgKind.POVERTY_OFFICE), ("LD", "厅领导", OrgKind.LEADERSHIP),
                  ("XX", "信息中心", OrgKind.OTHER)]

# The logins a tutorial can rely on: (username, role, unit code, full name).
NAMED_LOGINS = [
    ("admin", Role.ADMIN, "419000-XX", "孙浩"),
    ("handler", Role.HANDLER, "419121-NC", "李娜"),
    ("supervisor", Role.SUPERVISOR, "419121-NC", "张伟"),
    ("treasury", Role.TREASURY, "419100-GK", "王强"),
    ("poverty_office", Role.POVERTY_OFFICE, "419100-TP", "刘敏"),
    ("supervision", Role.SUPERVISION, "419000-JD", "陈静"),
    ("leader", Role.LEADER, "419000-LD", "杨光"),
    ("province", Role.PROVINCE, "419000-GK", "赵丽"),
    ("auditor", Role.AUDITOR, "419000-XX", "周洋"),
    ("platform", Role.INTEGRATION, "419000-XX", "监控平台接口账户"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞"]

RULES = [
    # code, name, category, level, warning type, bell becomes, description
    ("ZB-101", "指标文件印发后未按期分配", RuleCategory.INDICATOR, Level.YELLOW_BELL,
     WarningType.INDICATOR_ALLOCATION, Level.RED_LIGHT, "上级指标文件印发后3个工作日内未分配下达"),
    ("ZB-102", "指标分配对象与规定不符", RuleCategory.INDICATOR, Level.YELLOW_LIGHT,
     WarningType.INDICATOR_ALLOCATION, None, "分配对象不在资金管理办法规定范围内"),
    ("ZB-103", "无指标或超指标支付", RuleCategory.INDICATOR, Level.RED_LIGHT,
     WarningType.INDICATOR_RECEIPT, None, "支付金额超出可用指标余额"),
    ("ZC-201", "资金闲置超过规定天数", RuleCategory.EXPENDITURE, Level.YELLOW_BELL,
     WarningType.PAYMENT_CYCLE, Level.YELLOW_LIGHT, "资金到账后超过规定天数未支出"),
    ("ZC-202", "支付用途可疑", RuleCategory.EXPENDITURE, Level.YELLOW_LIGHT,
     WarningType.FUND_RISK, None, "支付用途含“招待”“礼品”等与扶贫无关字样"),
    ("ZC-203", "单笔提现金额超限", RuleCategory.EXPENDITURE, Level.RED_LIGHT,
     WarningType.CASH_EXPENDITURE, None, "单笔提取现金超过5万元"),
    ("JX-301", "绩效目标未按期填报", RuleCategory.PERFORMANCE, Level.YELLOW_BELL,
     WarningType.PAYMENT_CYCLE, Level.YELLOW_LIGHT, "项目绩效目标未在指标下达后15个工作日内填报"),
    ("JX-302", "绩效执行进度明显偏慢", RuleCategory.PERFORMANCE, Level.YELLOW_LIGHT,
     WarningType.FUND_RISK, None, "资金支出进度低于序时进度20个百分点"),
    ("JX-303", "绩效目标完成率严重偏低", RuleCategory.PERFORMANCE, Level.RED_LIGHT,
     WarningType.FUND_RISK, None, "年度绩效目标完成率低于50%"),
    ("DR-401", "补贴发放扫描件未按时上传", RuleCategory.HOUSEHOLD, Level.YELLOW_BELL,
     WarningType.PERSONAL_RISK, Level.YELLOW_LIGHT, "到户补贴发放后5个工作日内未上传签领单扫描件"),
    ("DR-402", "受款人可疑", RuleCategory.HOUSEHOLD, Level.YELLOW_LIGHT,
     WarningType.PERSONAL_RISK, None, "受款人为财政供养人员或同一账户多次领取"),
    ("DR-403", "补贴发放对象非建档立卡贫困人口", RuleCategory.HOUSEHOLD, Level.RED_LIGHT,
     WarningType.PERSONAL_RISK, None, "与全国扶贫开发信息系统比对，受款人不在建档立卡名单内"),
    ("ZH-501", "账户大额资金异常转出", RuleCategory.EXPENDITURE, Level.YELLOW_LIGHT,
     WarningType.ACCOUNT_RISK, None, "专户资金单日转出超过余额80%"),
    ("ZH-502", "向企业拨付资金集中异常", RuleCategory.EXPENDITURE, Level.YELLOW_LIGHT,
     WarningType.ENTERPRISE_RISK, None, "同一企业30日内累计收款超过500万元"),
]
FUNDS = ["中央财政衔接推进乡村振兴补助资金", "省级财政衔接推进乡村振兴补助资金", "以工代赈资金",
         "少数民族发展资金", "欠发达国有农场巩固提升资金", "产业发展扶持资金", "雨露计划补助资金"]
PAYEES = ["{town}农民专业合作社", "{town}种养殖专业合作社", "{county}惠农农业科技有限公司",
          "{county}乡村振兴投资有限公司", "{town}村民委员会"]
PERSONS = ["王建国", "李秀英", "张桂兰", "刘德福", "陈玉梅", "杨保国", "赵春花", "黄志强"]
PURPOSES = ["产业扶持资金", "到户种植补贴", "小额信贷贴息", "雨露计划助学补助", "村道硬化工程款",
            "光伏电站运维费", "易地搬迁后续扶持", "公益性岗位补贴"]

# Target end states, weighted like a live province: most closed, many still open.
TARGET_WEIGHTS = {
    State.YELLOW_BELL: 18, State.CLEARED: 22, State.YELLOW_LIGHT: 40, State.VERIFYING: 25,
    State.RED_LIGHT: 30, State.RECTIFYING: 30, State.RECTIFICATION_REVIEW: 20,
    State.REVERIFY_REVIEW: 6, State.NORMAL_REVIEW: 6, State.GREEN: 88, State.TRANSFERRED: 8,
}
V_NORMAL, V_VIOLATION = "verify_normal", "verify_violation"
# (level of the rule to raise, events to apply) per end state.
PATHS: dict[State, list[tuple[Level, list]]] = {
    State.YELLOW_BELL: [(Level.YELLOW_BELL, [])],
    State.CLEARED: [(Level.YELLOW_BELL, [Event.COMPLETE_DUTY])],
    State.YELLOW_LIGHT: [(Level.YELLOW_LIGHT, []), (Level.YELLOW_BELL, [Event.BELL_DEADLINE_PASSED])],
    State.VERIFYING: [(Level.YELLOW_LIGHT, [Event.START_VERIFY])],
    State.RED_LIGHT: [(Level.RED_LIGHT, []), (Level.YELLOW_LIGHT, [Event.START_VERIFY, V_VIOLATION])],
    State.RECTIFYING: [(Level.RED_LIGHT, [Event.START_RECTIFY]),
                       (Level.YELLOW_LIGHT, [V_VIOLATION, Event.START_RECTIFY])],
    State.RECTIFICATION_REVIEW: [(Level.RED_LIGHT, [Event.START_RECTIFY, Event.SUBMIT_RECTIFICATION])],
    State.REVERIFY_REVIEW: [(Level.YELLOW_LIGHT, [V_VIOLATION, Event.REQUEST_REVERIFY])],
    # Most demo payments are above the normal-review amount.
    State.NORMAL_REVIEW: [(Level.YELLOW_LIGHT, [Event.START_VERIFY, V_NORMAL])],
    State.GREEN: [
        (Level.YELLOW_LIGHT, [Event.START_VERIFY, V_NORMAL]),
        (Level.YELLOW_LIGHT, [V_NORMAL]),
        (Level.YELLOW_LIGHT, [Event.START_VERIFY, V_VIOLATION, Event.START_RECTIFY,
                              Event.SUBMIT_RECTIFICATION, Event.APPROVE_RECTIFICATION]),
        (Level.RED_LIGHT, [Event.START_RECTIFY, Event.SUBMIT_RECTIFICATION,
                           Event.REJECT_RECTIFICATION, Event.SUBMIT_RECTIFICATION,
                           Event.APPROVE_RECTIFICATION]),
    ],
    State.TRANSFERRED: [(Level.RED_LIGHT, [Event.START_RECTIFY, Event.TRANSFER])],
}
SUPERVISOR_EVENTS = {Event.APPROVE_RECTIFICATION, Event.REJECT_RECTIFICATION, Event.TRANSFER}


@dataclass
class DemoReport:
    created: bool
    summary: str = ""


def demo_logins(session: Session) -> list[tuple[str, str, str, str]]:
    """Every demo account: (username, role label, full name, unit name), tutorial ones first."""
    rows = session.exec(
        select(User.username, User.role, User.full_name, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .order_by(User.username)
    ).all()
    order = {u: i for i, (u, *_rest) in enumerate(NAMED_LOGINS)}
    rows = sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))
    return [(u, Role(role).label, name, unit) for u, role, name, unit in rows]


def load_demo(
    session: Session, *, password: str, cases: int = 300, as_of: datetime | None = None, seed: int = 2026
) -> DemoReport:
    """Load the demo province unless it is already there (a second run keeps the first's data)."""
    if session.exec(select(Region.id).where(Region.code == PROVINCE_CODE)).first():
        return DemoReport(created=False)
    as_of = as_of or now_utc()
    rng = random.Random(seed)
    counties = _regions(session)
    people = _people(session, rng, password)
    rules = _rules(session)
    _whitelist(session, rules, people)
    made = _cases(session, rng, counties, rules, people, cases, as_of)
    new_year = date(local_date(as_of).year + 1, 1, 1)
    _extension_to(session, new_year, as_of)
    # 2027 has no official data yet: the administrator has entered only 元旦, after the
    # extension above was granted, so its deadline moved (节假日调整 on the timeline) and the
    # rest of 2027 still shows as missing on the calendar page (the notice can be entered there).
    set_calendar_day(session, actor=people["admin"], day=new_year, kind=DayKind.HOLIDAY,
                     name="元旦", as_of=as_of)  # fmt: skip
    # What the first working day's jobs would have left: last month evaluated under the
    # three-month rule (with the months before it) and every region's summary drafted.
    streaks = evaluate_streaks(session, as_of=as_of)
    drafts = draft_monthly_reports(session, as_of=as_of, only_first_working_day=False)
    return DemoReport(
        created=True,
        summary=f"1 个省、{len(CITIES)} 个市、{len(counties)} 个县区（含市本级），"
        f"{len(people)} 个账户，{len(rules)} 条规则，{made} 个预警案件，"
        f"上月月报 {drafts.created} 份（编制中），专项督查 {streaks.inspections_opened} 件",
    )


def _extension_to(session: Session, new_year: date, as_of: datetime) -> None:
    """One rectifying case whose handler was granted time until next 1 January: counted by
    Monday–Friday for a year without data, until the administrator enters 元旦."""
    case = session.exec(
        select(Case).where(Case.state == State.RECTIFYING, Case.assignee_id.is_not(None)).order_by(Case.id)
    ).first()
    supervisor = case and session.exec(
        select(User.id).where(User.org_unit_id == case.org_unit_id, User.role == Role.SUPERVISOR,
                              User.is_active.is_(True)).order_by(User.id)  # fmt: skip
    ).first()
    if case is None or supervisor is None:
        return
    asked = request_extension(
        session, case_id=case.id, actor=load_actor(session, case.assignee_id), version=case.version,
        as_of=as_of, reason="整改涉及跨年度资金收回，需待银行年末对账后办理", requested_due_on=new_year,
    )  # fmt: skip
    decide_extension(
        session, request_id=asked.request_id, actor=load_actor(session, supervisor),
        version=asked.version, as_of=as_of, approve=True, reason="同意延期至元旦",
    )  # fmt: skip


def _regions(session: Session) -> list[Region]:
    def add(code, name, level, parent=None, city_own=False) -> Region:
        region = Region(code=code, name=name, level=level, parent_id=parent.id if parent else None,
                        path=f"{parent.path if parent else '/'}{code}/", is_city_own_level=city_own)
        session.add(region)
        session.flush()
        return region

    def units(region: Region, specs, suffix: str) -> None:
        for code, name, kind in specs:
            session.add(OrgUnit(code=f"{region.code}-{code}", name=f"{region.name}{suffix}{name}",
                                kind=kind, region_id=region.id))

    province = add(PROVINCE_CODE, "中原省", RegionLevel.PROVINCE)
    units(province, PROVINCE_UNITS, "财政厅")
    counties = []
    for city_code, city_name, children in CITIES:
        city = add(city_code, city_name, RegionLevel.CITY, province)
        units(city, CITY_UNITS, "财政局")
        for code, name, city_own in children:
            county = add(code, name, RegionLevel.COUNTY, city, city_own)
            units(county, COUNTY_UNITS, "财政局")
            counties.append(county)
            for n, town in enumerate(("城关镇", "东关乡"), start=1):
                add(f"{code}{n:03d}", f"{name.removesuffix('本级')}{town}", RegionLevel.TOWNSHIP, county)
    session.flush()
    return counties


def _people(session: Session, rng: random.Random, password: str) -> dict[str, Actor]:
    units = {u.code: u for u in session.exec(select(OrgUnit)).all()}
    accounts = [(u, r, unit, name, None) for u, r, unit, name in NAMED_LOGINS]
    # Every department that receives cases gets two handlers and a supervisor.
    for code, unit in sorted(units.items()):
        if unit.kind not in (OrgKind.AGRI_FINANCE, OrgKind.BUDGET, OrgKind.TREASURY):
            continue
        if code.startswith(PROVINCE_CODE):
            continue  # cases arise in cities and counties
        region_code, section = code.split("-")
        slug = f"{section.lower()}{region_code}"  # e.g. nc419122_h1: 宁县农财股 handler 1
        for suffix, role in (("h1", Role.HANDLER), ("h2", Role.HANDLER), ("sup", Role.SUPERVISOR)):
            username = f"{slug}_{suffix}"
            if code == "419121-NC" and suffix in ("h1", "sup"):
                continue  # the tutorial logins "handler" and "supervisor" stand here
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            accounts.append((username, role, code, name, "科员" if role == Role.HANDLER else "股长"))
    # Every region that reports (province, cities, counties) has the people its monthly
    # report's chain needs (workflows/reporting/staffing.py): a treasury account to compile
    # and send, a poverty-office one to countersign, and at the province, where no cases
    # arise, a head for each department's part.
    # Their names come from a generator of their own so the cases drawn after stay the same.
    chain_rng = random.Random("monthly-chain")
    chain_accounts = []
    tutorial_units = {unit for _u, role, unit, _n in NAMED_LOGINS
                      if role in (Role.TREASURY, Role.POVERTY_OFFICE)}
    for code, unit in sorted(units.items()):
        region_code, section = code.split("-")
        role = {OrgKind.TREASURY: Role.TREASURY, OrgKind.POVERTY_OFFICE: Role.POVERTY_OFFICE}.get(unit.kind)
        if role is not None and code not in tutorial_units:
            name = chain_rng.choice(SURNAMES) + chain_rng.choice(GIVEN) + chain_rng.choice(["", *GIVEN])
            chain_accounts.append((f"{section.lower()}{region_code}", role, code, name, "负责人"))
        if region_code == PROVINCE_CODE and unit.kind in (OrgKind.AGRI_FINANCE, OrgKind.BUDGET):
            name = chain_rng.choice(SURNAMES) + chain_rng.choice(GIVEN) + chain_rng.choice(["", *GIVEN])
            chain_accounts.append((f"{section.lower()}{region_code}_sup", Role.SUPERVISOR, code, name, "处长"))
    people = {}
    shared_hash = hash_password(password)
    persons = _PersonMaker()
    for generator, batch in ((rng, accounts), (chain_rng, chain_accounts)):
        for username, role, unit_code, name, position in batch:
            phone = f"0371-6{generator.randrange(1000000, 9999999)}"
            position = position or _POSITIONS.get(role, "科员")
            user = create_user(session, username=username, full_name=name, role=role,
                               org_unit_id=units[unit_code].id, password=password, position=position,
                               phone=phone, password_hash=shared_hash)
            # Every account belongs to a person, so the demo keeps 不得混岗 as a real
            # deployment does (workflows/admin/persons.py).
            person = record_person(session, full_name=name, id_number=persons.next(unit_code),
                                   phone=phone, position=position)
            check_separation(session, role=role, person_id=person.id, full_name=name, phone=phone,
                             user_id=user.id)
            user.person_id = person.id
            session.add(user)
            people[username] = load_actor(session, user.id)
    session.flush()
    return people


_POSITIONS = {Role.ADMIN: "系统管理员", Role.AUDITOR: "审计员", Role.INTEGRATION: "接口账户负责人",
              Role.SUPERVISION: "科长", Role.LEADER: "局长", Role.PROVINCE: "处长",
              Role.TREASURY: "负责人", Role.POVERTY_OFFICE: "负责人", Role.SUPERVISOR: "股长"}


class _PersonMaker:
    """Made-up, well-formed ID numbers (the unit's region code, a birth date, a serial), one
    per demo person, from a generator of their own so the cases drawn after stay the same."""

    def __init__(self) -> None:
        self.rng = random.Random("demo-persons")
        self.used: set[str] = set()

    def next(self, unit_code: str) -> str:
        while True:
            born = date(1965, 1, 1) + timedelta(days=self.rng.randrange(0, 30 * 365))
            number = with_check_character(
                f"{unit_code[:6]}{born:%Y%m%d}{self.rng.randrange(0, 1000):03d}")
            if number not in self.used:
                self.used.add(number)
                return number


def _rules(session: Session) -> list[Rule]:
    rules = []
    for code, name, category, level, warning_type, becomes, description in RULES:
        rule = Rule(code=code, name=name, category=category, level=level, warning_type=warning_type,
                    description=description, basis="豫财办〔2018〕33号；长财库〔2019〕1918号",
                    scope="全省各级财政部门", handling_party=f"{warning_type.label}主管处室经办人",
                    theme=category.label, bell_becomes=becomes, bell_lead_days=3 if becomes else None,
                    rectify_days=10 if level == Level.RED_LIGHT else None, active_from=date(2026, 1, 1))
        session.add(rule)
        rules.append(rule)
    session.flush()
    return rules


def _whitelist(session: Session, rules: list[Rule], people: dict[str, Actor]) -> None:
    by_code = {r.code: r for r in rules}
    for kind, value, rule_code, reason in [
        (WhitelistKind.PAYEE, "安县城关镇公益性岗位工资专户", "ZC-203", "公益性岗位工资按规定以现金发放，经局务会批准"),
        (WhitelistKind.ACCOUNT, "6217000010012345678", "DR-402", "村级报账员代领账户，已备案"),
    ]:
        session.add(WhitelistEntry(kind=kind, value=value, rule_id=by_code[rule_code].id, reason=reason,
                                   approved_by_id=people["supervisor"].user_id,
                                   created_by_id=people["handler"].user_id))
    session.flush()


def _cases(session, rng, counties, rules, people, count, as_of) -> int:
    calendar = load_calendar(session)
    supervisors = {
        a.org_unit_id: a for a in people.values() if a.role == Role.SUPERVISOR
    }
    handlers = {a.user_id: a for a in people.values() if a.role == Role.HANDLER}
    cities = {c.parent_id: session.get(Region, c.parent_id) for c in counties if c.is_city_own_level}
    by_level: dict[Level, list[Rule]] = {}
    for rule in rules:
        by_level.setdefault(rule.level, []).append(rule)
    targets = rng.choices(list(TARGET_WEIGHTS), weights=list(TARGET_WEIGHTS.values()), k=count)
    for n, target in enumerate(targets, start=1):
        level, steps = rng.choice(PATHS[target])
        if Event.BELL_DEADLINE_PASSED in steps:
            candidates = [r for r in by_level[level] if r.bell_becomes == target.level]
        else:
            candidates = by_level[level]
        rule = rng.choice(candidates)
        # Open cases lean recent, so some are within their deadline and some overdue.
        days_ago = rng.randint(1, 12) if target.is_open and rng.random() < 0.6 else rng.randint(8, 75)
        if Event.BELL_DEADLINE_PASSED in steps:
            days_ago = rng.randint(12, 75)  # the duty deadline must have passed
        raised_at = _working_moment(calendar, as_of, days_ago, rng)
        county = rng.choice(counties)
        if county.is_city_own_level and n % 2 == 0:
            # Half of a city's own-level warnings go to the city bureau's own departments,
            # so the city's summary has departments with cases of their own.
            county = cities[county.parent_id]
        unit_id, handler_id = route(session, region_id=county.id, warning_type=rule.warning_type)
        duty_due_on = None
        if level == Level.YELLOW_BELL:
            lead = rule.bell_lead_days or 3
            duty_due_on = calendar.add_working_days(local_date(raised_at), lead)
        facts = _facts(rng, county, raised_at)
        case_id = raise_case(
            session, rule=rule, region_id=county.id, org_unit_id=unit_id, assignee_id=handler_id,
            source=DEMO_SOURCE, external_id=f"DEMO-{n:06d}", raised_at=raised_at, as_of=raised_at,
            actor=people["platform"], facts=facts, duty_due_on=duty_due_on,
            payload={"monitoring_platform": "财政扶贫资金动态监控平台", "rule_code": rule.code},
            calendar=calendar,
        )
        end = as_of
        if steps == [Event.COMPLETE_DUTY]:
            # Cleared bells had their duty done in time.
            end = min(as_of, datetime.combine(duty_due_on, time(17, 0), LOCAL_TZ))
        expired = duty_due_on if Event.BELL_DEADLINE_PASSED in steps else None
        moments = _moments(raised_at, end, len(steps), rng, expired)
        version = 1
        # What the slips may say: 涉及金额 up to the payment, 收回金额 up to 涉及金额.
        limits = {"involved": facts["amount"]}
        for step, at in zip(steps, moments, strict=True):
            event, kwargs = _step_arguments(step, rng, at, handlers, handler_id, limits)
            if event == Event.BELL_DEADLINE_PASSED:
                actor = Actor.system()
            elif event in SUPERVISOR_EVENTS:
                actor = supervisors[unit_id]
            else:
                actor = handlers[handler_id]
            result = transition(session, case_id=case_id, event=event, actor=actor, version=version,
                                as_of=at, calendar=calendar, **kwargs)
            version = result.version
            if result.to_state == State.NORMAL_REVIEW and target != State.NORMAL_REVIEW:
                # A normal conclusion on a large payment: the supervisor signs it.
                version = transition(
                    session, case_id=case_id, event=Event.APPROVE_NORMAL, actor=supervisors[unit_id],
                    version=version, as_of=at, calendar=calendar, comment="核实材料齐全，同意认定正常。",
                ).version  # fmt: skip
            if result.to_state == State.CLEARANCE_REVIEW and n % 3:
                # A bell cleared on the handler's word: the supervisor signs it off (a third
                # still wait for the sign-off; the random draws stay those of a cleared bell).
                version = transition(
                    session, case_id=case_id, event=Event.APPROVE_CLEARANCE, actor=supervisors[unit_id],
                    version=version, as_of=at, calendar=calendar, comment="履职凭证齐全，同意解除警铃。",
                ).version  # fmt: skip
    return count


def _working_moment(calendar, as_of: datetime, days_ago: int, rng: random.Random) -> datetime:
    day = calendar.next_working_day(local_date(as_of) - timedelta(days=days_ago))
    if day >= local_date(as_of):
        day = local_date(as_of) - timedelta(days=1)
    moment = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), LOCAL_TZ)
    return moment.astimezone(as_of.tzinfo)


def _moments(start: datetime, end: datetime, n: int, rng, duty_due_on: date | None) -> list[datetime]:
    """n increasing moments between start and end (after the duty deadline for expired bells)."""
    if duty_due_on is not None:
        start = max(start, datetime.combine(duty_due_on + timedelta(days=1), time(0, 5), LOCAL_TZ))
    span = max((end - start).total_seconds(), 60.0 * (n + 1))
    points = sorted(rng.uniform(0.05, 0.95) for _ in range(n))
    return [min(start + timedelta(seconds=span * p), end) for p in points]


def _step_arguments(step, rng, at: datetime, handlers, handler_id, limits) -> tuple[Event, dict]:
    handler = handlers[handler_id]
    if step in (V_NORMAL, V_VIOLATION):
        violation = step == V_VIOLATION
        slip = SlipInput(
            kind=SlipKind.VERIFICATION,
            methods=rng.sample(list(VerifyMethod), k=rng.randint(1, 2)),
            findings=("经调阅拨付凭证并实地核查，该笔资金存在与批复用途不符的情况。" if violation
                      else "经电话核实并调阅相关材料，该笔支付用途与项目批复一致，属正常支付。"),
            conclusion=Conclusion.VIOLATION if violation else Conclusion.NORMAL,
            violation_type=rng.choice(list(ViolationType)) if violation else None,
            amount_involved=min(Decimal(rng.randint(2000, 300000)), limits["involved"]) if violation else None,
            filler_name=handler.name,
            filler_phone="0371-66668888",
        )
        if violation:
            limits["involved"] = slip.amount_involved
        return Event.SUBMIT_VERIFICATION, {"slip": slip}
    if step == Event.SUBMIT_RECTIFICATION:
        recovered = rng.random() < 0.6
        measures = [Measure.CORRECTED] + ([Measure.FUNDS_RECOVERED] if recovered else [])
        slip = SlipInput(
            kind=SlipKind.RECTIFICATION,
            measures=measures,
            measures_detail="已责令项目单位整改，违规资金已收回至专户并重新按规定拨付。" if recovered
            else "已督促项目单位补齐手续并完成整改。",
            amount_recovered=min(Decimal(rng.randint(1000, 200000)), limits["involved"]) if recovered else None,
            completed_on=local_date(at),
            filler_name=handler.name,
            filler_phone="0371-66668888",
        )
        return step, {"slip": slip}
    if step == Event.REJECT_RECTIFICATION:
        return step, {"comment": "整改材料不完整，请补充资金收回的银行回单后重新提交。"}
    if step == Event.TRANSFER:
        return step, {"comment": "涉嫌虚报冒领，移交县纪委监委处理。"}
    if step == Event.COMPLETE_DUTY:
        return step, {"comment": f"已于{local_date(at):%Y年%m月%d日}按时完成，凭证已上传平台。",
                      "data": {"done_at": local_date(at).isoformat()}}
    if step == Event.REQUEST_REVERIFY:
        return step, {"comment": "项目单位补充提供了批复变更文件，原认定违规的依据不成立，申请重新核实。"}
    return step, {}


def _facts(rng: random.Random, county: Region, raised_at: datetime) -> dict:
    town = county.name.removesuffix("本级") + rng.choice(["城关镇", "东关乡", "南河镇"])
    payee = rng.choice(PAYEES + PERSONS).format(town=town, county=county.name.removesuffix("本级"))
    return {
        "fund_name": rng.choice(FUNDS),
        "indicator_doc_no": f"豫财农〔2026〕{rng.randint(1, 180)}号",
        "payer_name": f"{county.name}财政局",
        "payee_name": payee,
        "payee_account": f"62{rng.randrange(10**16, 10**17)}",
        "amount": Decimal(rng.randint(100000, 300000000)) / 100,
        "payment_date": local_date(raised_at) - timedelta(days=rng.randint(0, 20)),
        "purpose": rng.choice(PURPOSES),
    }


def demo_overview(session: Session) -> dict[str, int]:
    """Case counts by state, for the demo's own checks."""
    rows = session.connection().execute(
        sa.select(Case.state, sa.func.count()).where(Case.source == DEMO_SOURCE).group_by(Case.state)
    ).all()
    return {state: n for state, n in rows}
