"""A small province with named people, built through the product's own functions.

Li Na (li_na) and Wang Fang handle Anxian county's agricultural-finance section; Zhang Wei
supervises it. Chen Jie handles Anxian's budget section; Zhao Lei handles Ningxian's
agricultural finance. Sun Hao administers the system at the province; Liu Yang audits.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

from sqlmodel import Session

from models import OrgUnit, Region, Rule
from models.enums import (
    AmountBasis,
    Conclusion,
    Level,
    Measure,
    OrgKind,
    RegionLevel,
    Role,
    RuleCategory,
    SlipKind,
    VerifyMethod,
    ViolationType,
    WarningType,
)
from workflows.admin.accounts import create_user
from workflows.cases.slips import SlipInput
from workflows.core.actors import Actor, load_actor
from workflows.intake.intake import raise_case

PASSWORD = "Passw0rd-2026"
# Monday 2026-11-23 09:00 in Shanghai.
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
_external_ids = count(1)


@dataclass
class World:
    regions: dict[str, Region] = field(default_factory=dict)
    units: dict[str, OrgUnit] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)


def _region(session, world, key, code, name, level, parent=None, city_own=False) -> Region:
    path = f"{parent.path if parent else '/'}{code}/"
    region = Region(
        code=code,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        path=path,
        is_city_own_level=city_own,
    )
    session.add(region)
    session.flush()
    world.regions[key] = region
    return region


def _unit(session, world, key, code, name, kind, region) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, region_id=region.id)
    session.add(unit)
    session.flush()
    world.units[key] = unit
    return unit


def build_world(session: Session) -> World:
    world = World()
    province = _region(session, world, "province", "410000", "中原省", RegionLevel.PROVINCE)
    city = _region(session, world, "city", "410100", "平川市", RegionLevel.CITY, province)
    _region(session, world, "city_own", "410101", "平川市本级", RegionLevel.COUNTY, city, True)
    anxian = _region(session, world, "anxian", "410121", "安县", RegionLevel.COUNTY, city)
    ningxian = _region(session, world, "ningxian", "410122", "宁县", RegionLevel.COUNTY, city)
    _region(session, world, "town", "410121001", "安县城关镇", RegionLevel.TOWNSHIP, anxian)

    _unit(session, world, "province_office", "410000-ADM", "中原省财政厅办公室", OrgKind.OTHER, province)
    _unit(session, world, "province_supervision", "410000-SUP", "中原省财政厅监督检查局", OrgKind.SUPERVISION, province)
    _unit(session, world, "anxian_agri", "410121-NC", "安县财政局农财股", OrgKind.AGRI_FINANCE, anxian)
    _unit(session, world, "anxian_budget", "410121-YS", "安县财政局预算股", OrgKind.BUDGET, anxian)
    _unit(session, world, "anxian_treasury", "410121-GK", "安县财政局国库股", OrgKind.TREASURY, anxian)
    _unit(session, world, "ningxian_agri", "410122-NC", "宁县财政局农财股", OrgKind.AGRI_FINANCE, ningxian)
    _unit(session, world, "anxian_poverty", "410121-TP", "安县财政局脱贫办", OrgKind.POVERTY_OFFICE, anxian)
    _unit(session, world, "province_treasury", "410000-GK", "中原省财政厅国库处", OrgKind.TREASURY, province)
    _unit(session, world, "province_leaders", "410000-LD", "中原省财政厅领导", OrgKind.LEADERSHIP, province)

    people = [
        ("li_na", "李娜", Role.HANDLER, "anxian_agri"),
        ("wang_fang", "王芳", Role.HANDLER, "anxian_agri"),
        ("zhang_wei", "张伟", Role.SUPERVISOR, "anxian_agri"),
        ("chen_jie", "陈杰", Role.HANDLER, "anxian_budget"),
        ("zhao_lei", "赵磊", Role.HANDLER, "ningxian_agri"),
        ("ningxian_boss", "周敏", Role.SUPERVISOR, "ningxian_agri"),
        ("sun_hao", "孙浩", Role.ADMIN, "province_office"),
        ("liu_yang", "刘洋", Role.AUDITOR, "province_office"),
        ("platform", "监控平台接口", Role.INTEGRATION, "province_office"),
        # The monthly chain and the three-month rule (issue 6).
        ("qian_li", "钱丽", Role.TREASURY, "anxian_treasury"),
        ("he_min", "何敏", Role.POVERTY_OFFICE, "anxian_poverty"),
        ("gao_jun", "高军", Role.SUPERVISION, "province_supervision"),
        ("ma_lin", "马林", Role.LEADER, "province_leaders"),
        ("xu_qing", "徐青", Role.PROVINCE, "province_treasury"),
    ]
    for username, name, role, unit in people:
        user = create_user(
            session,
            username=username,
            full_name=name,
            role=role,
            org_unit_id=world.units[unit].id,
            password=PASSWORD,
        )
        world.users[username] = user.id
        world.actors[username] = load_actor(session, user.id)
    world.actors["system"] = Actor.system()

    def rule(key, code, name, level, warning_type, category, **kw) -> None:
        r = Rule(
            code=code,
            name=name,
            level=level,
            warning_type=warning_type,
            category=category,
            description=f"{name}的监控规则",
            basis="豫财办〔2018〕33号 第十七条",
            scope="全省各级财政部门",
            handling_party="主管处室经办人",
            active_from=date(2026, 1, 1),
            **kw,
        )
        session.add(r)
        session.flush()
        world.rules[key] = r

    rule("yellow", "ZC-001", "支付用途可疑", Level.YELLOW_LIGHT, WarningType.FUND_RISK, RuleCategory.EXPENDITURE)
    rule("red", "ZC-002", "单笔提现金额超限", Level.RED_LIGHT, WarningType.PERSONAL_RISK, RuleCategory.EXPENDITURE, rectify_days=10)
    rule(
        "bell_red", "ZB-001", "指标导入超期", Level.YELLOW_BELL, WarningType.PAYMENT_CYCLE,
        RuleCategory.INDICATOR, bell_becomes=Level.RED_LIGHT, bell_lead_days=2,
    )
    rule("bell", "ZB-002", "扫描件未按时上传", Level.YELLOW_BELL, WarningType.PAYMENT_CYCLE, RuleCategory.INDICATOR)
    return world


def new_case(
    session: Session,
    world: World,
    rule: str = "yellow",
    *,
    region: str = "anxian",
    unit: str = "anxian_agri",
    assignee: str | None = "li_na",
    at: datetime = NOW,
    amount: str = "12345.67",
    duty_due_on: date | None = None,
) -> int:
    return raise_case(
        session,
        rule=world.rules[rule],
        region_id=world.regions[region].id,
        org_unit_id=world.units[unit].id,
        assignee_id=world.users[assignee] if assignee else None,
        source="test",
        external_id=f"T{next(_external_ids):08d}",
        raised_at=at,
        as_of=at,
        actor=world.actors["platform"],
        facts={
            "fund_name": "中央财政衔接推进乡村振兴补助资金",
            "payee_name": "安县城关镇农民专业合作社",
            "payee_account": "6222020200112233445",
            "amount": Decimal(amount),
            "payment_date": date(2026, 11, 18),
            "purpose": "产业扶持资金",
        },
        duty_due_on=(duty_due_on or date(2026, 11, 30))
        if world.rules[rule].level == Level.YELLOW_BELL else None,
    )


def verification_slip(
    conclusion: Conclusion = Conclusion.VIOLATION, basis: AmountBasis | None = None
) -> SlipInput:
    """Li Na's verification slip; `basis` for a batch slip (每件金额 or 合计金额)."""
    violation = conclusion == Conclusion.VIOLATION
    return SlipInput(
        amount_basis=basis,
        kind=SlipKind.VERIFICATION,
        methods=[VerifyMethod.PHONE, VerifyMethod.DOCUMENTS],
        findings="经电话核实并调阅拨付凭证，该笔资金用途与项目批复不符。" if violation else "经核实，支付用途与批复一致。",
        conclusion=conclusion,
        violation_type=ViolationType.MISAPPROPRIATION if violation else None,
        amount_involved=Decimal("12345.67") if violation else None,
        filler_name="李娜",
        filler_phone="0371-12345678",
    )


def rectification_slip(basis: AmountBasis | None = None) -> SlipInput:
    """Li Na's rectification slip; `basis` for a batch slip (每件金额 or 合计金额)."""
    return SlipInput(
        amount_basis=basis,
        kind=SlipKind.RECTIFICATION,
        measures=[Measure.FUNDS_RECOVERED, Measure.CORRECTED],
        measures_detail="已责令收回挪用资金并重新按批复用途拨付。",
        amount_recovered=Decimal("12345.67"),
        completed_on=date(2026, 11, 23),
        filler_name="李娜",
        filler_phone="0371-12345678",
    )


def id_number(serial: int, *, region: str = "410121", born: str = "19850312") -> str:
    """A well-formed 18-digit ID number (GB 11643 check character) for a test person."""
    body = f"{region}{born}{serial % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
