"""The benchmark province: regions, departments, people and rules (small; written with Core).

A province of 10 cities, each with its own budget level (市本级) and 8 counties, each county
with 6 townships; every org-unit kind; three handlers and a supervisor in every county
department that receives cases; viewer logins at the province and the cities; the demo's
rules (every category and level). Usernames are predictable so bench/api.py can log in.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from models import OrgUnit, Region, Rule, User
from models.enums import Level, OrgKind, RegionLevel, Role
from workflows.admin.accounts import hash_password
from workflows.demo import CITY_UNITS, COUNTY_UNITS, GIVEN, PROVINCE_UNITS, RULES, SURNAMES
from workflows.intake.routing import DEPARTMENT_FOR_WARNING_TYPE

PASSWORD = "Bench-2026-pass"
PROVINCE = ("410000", "中原省")
CITY_NAMES = ["平川市", "青河市", "东岭市", "南湖市", "西山市", "北原市", "金川市", "云台市", "白沙市", "龙门市"]
COUNTY_FIRST = "安宁清河柳石永丰太和长乐新兴富平"
COUNTY_SECOND = "县县县区县县县区"
TOWNS = ["城关镇", "东关乡", "西关乡", "南河镇", "北山乡", "新集镇"]
HANDLERS_PER_UNIT = 3
# Viewer logins: (username, role, unit code suffix at the province).
PROVINCE_LOGINS = [
    ("admin", Role.ADMIN, "XX"),
    ("platform", Role.INTEGRATION, "XX"),
    ("province", Role.PROVINCE, "GK"),
    ("auditor", Role.AUDITOR, "XX"),
    ("leader", Role.LEADER, "LD"),
    ("supervision", Role.SUPERVISION, "JD"),
]


@dataclass
class CaseRegion:
    """Where a case can arise: a county-level region or one of its townships."""

    region_id: int
    county_id: int
    county_name: str  # without 本级
    town_name: str


@dataclass
class Unit:
    id: int
    handlers: list[tuple[int, str]]  # (user id, full name)
    supervisor: tuple[int, str]


@dataclass
class World:
    province_id: int
    case_regions: list[CaseRegion] = field(default_factory=list)
    # (county region id, org kind) -> the department there
    units: dict[tuple[int, OrgKind], Unit] = field(default_factory=dict)
    rules: list[sa.Row] = field(default_factory=list)
    platform_id: int = 0


def build_world(connection: sa.Connection, seed_names, counties_per_city: int = 8) -> World:
    """Insert the reference data and return what the case generator needs."""
    regions, units = Region.__table__, OrgUnit.__table__

    def region(code, name, level, parent=None, city_own=False) -> tuple[int, str]:
        path = f"{parent[1] if parent else '/'}{code}/"
        rid = connection.execute(
            sa.insert(regions)
            .values(code=code, name=name, level=level, parent_id=parent[0] if parent else None,
                    path=path, is_city_own_level=city_own)
            .returning(regions.c.id)
        ).scalar_one()
        return rid, path

    def add_units(rid: int, code: str, name: str, specs, suffix: str) -> dict[str, int]:
        rows = [{"code": f"{code}-{c}", "name": f"{name}{suffix}{n}", "kind": k, "region_id": rid}
                for c, n, k in specs]
        ids = connection.execute(sa.insert(units).returning(units.c.id, units.c.code), rows).all()
        return {c.split("-")[1]: i for i, c in ids}

    province = region(*PROVINCE, RegionLevel.PROVINCE)
    province_units = add_units(province[0], PROVINCE[0], PROVINCE[1], PROVINCE_UNITS, "财政厅")
    world = World(province_id=province[0])
    users: list[dict] = []
    password_hash = hash_password(PASSWORD)

    def user(username, role, unit_id, name, position=None) -> None:
        users.append({"username": username, "full_name": name, "role": role, "org_unit_id": unit_id,
                      "password_hash": password_hash, "position": position})

    for username, role, section in PROVINCE_LOGINS:
        user(username, role, province_units[section], seed_names())
    county_units: list[tuple[int, str, str, int]] = []  # (county id, county code, section, unit id)
    n_county = 0
    for c, city_name in enumerate(CITY_NAMES, start=1):
        city_code = f"41{c:02d}00"
        city = region(city_code, city_name, RegionLevel.CITY, province)
        city_units = add_units(city[0], city_code, city_name, CITY_UNITS, "财政局")
        user(f"treasury{city_code}", Role.TREASURY, city_units["GK"], seed_names())
        user(f"poverty{city_code}", Role.POVERTY_OFFICE, city_units["TP"], seed_names())
        user(f"city{city_code}", Role.LEADER, city_units["LD"], seed_names())
        counties = [(f"41{c:02d}01", f"{city_name}本级", True)]
        for k in range(counties_per_city):
            first = COUNTY_FIRST[n_county % len(COUNTY_FIRST)] + COUNTY_FIRST[(n_county * 7 + 3) % len(COUNTY_FIRST)]
            counties.append((f"41{c:02d}{21 + k:02d}", first + COUNTY_SECOND[k % len(COUNTY_SECOND)], False))
            n_county += 1
        for code, name, city_own in counties:
            county = region(code, name, RegionLevel.COUNTY, city, city_own)
            base = name.removesuffix("本级")
            for section, unit_id in add_units(county[0], code, name, COUNTY_UNITS, "财政局").items():
                county_units.append((county[0], code, section, unit_id))
            world.case_regions.append(CaseRegion(county[0], county[0], base, TOWNS[0]))
            for t, town in enumerate(TOWNS, start=1):
                town_id, _ = region(f"{code}{t:03d}", f"{base}{town}", RegionLevel.TOWNSHIP, county)
                world.case_regions.append(CaseRegion(town_id, county[0], base, town))
    for _county_id, code, section, unit_id in county_units:
        slug = f"{section.lower()}{code}"  # nc410221_h1: 410221's agricultural-finance handler 1
        for h in range(1, HANDLERS_PER_UNIT + 1):
            user(f"{slug}_h{h}", Role.HANDLER, unit_id, seed_names(), "科员")
        user(f"{slug}_sup", Role.SUPERVISOR, unit_id, seed_names(), "股长")
    connection.execute(sa.insert(User.__table__), users)

    people = connection.execute(
        sa.select(User.id, User.username, User.full_name, User.role, User.org_unit_id)
    ).all()
    by_unit: dict[int, Unit] = {}
    for p in people:
        if p.role == Role.HANDLER:
            by_unit.setdefault(p.org_unit_id, Unit(p.org_unit_id, [], (0, ""))).handlers.append(
                (p.id, p.full_name))
        elif p.role == Role.SUPERVISOR:
            by_unit.setdefault(p.org_unit_id, Unit(p.org_unit_id, [], (0, ""))).supervisor = (p.id, p.full_name)
        elif p.username == "platform":
            world.platform_id = p.id
    kinds = {"NC": OrgKind.AGRI_FINANCE, "YS": OrgKind.BUDGET, "GK": OrgKind.TREASURY}
    for county_id, _code, section, unit_id in county_units:
        # Only the departments warnings are routed to; the poverty office countersigns reports.
        if section in kinds:
            world.units[(county_id, kinds[section])] = by_unit[unit_id]

    rule_rows = []
    for code, name, category, level, warning_type, becomes, description in RULES:
        rule_rows.append({
            "code": code, "name": name, "category": category, "level": level,
            "warning_type": warning_type, "description": description,
            "basis": "豫财办〔2018〕33号；长财库〔2019〕1918号", "scope": "全省各级财政部门",
            "handling_party": f"{warning_type.label}主管处室经办人", "theme": category.label,
            "bell_becomes": becomes, "bell_lead_days": 3 if becomes else None,
            "rectify_days": 10 if level == Level.RED_LIGHT else None,
            "active_from": date(2025, 1, 1), "is_active": True,
        })
    connection.execute(sa.insert(Rule.__table__), rule_rows)
    world.rules = connection.execute(sa.select(Rule.__table__).order_by(Rule.id)).all()
    return world


def department_of(rule: sa.Row) -> OrgKind:
    return DEPARTMENT_FOR_WARNING_TYPE[rule.warning_type]


def name_maker(rng):
    def make() -> str:
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])

    return make
