"""The audit viewer's reads (/admin/audit, GET /api/v1/audit, the XLSX export).

Who reads what: an administrator every account's acts (logins, account, permission, rule,
calendar, routing and whitelist changes) and the imports, whoever did them, but no case, slip
or report (不得混岗); an auditor or the supervision bureau everything that happened in their
region. Filters: person (user name), kind (a table such as "case_event", or one kind such as
"login"), case number, period (local dates). Newest first, paged by keyset on (at, source,
id), so a page is as fast at the end of a year as at its start. Each row carries its chain
link (seq, hash) once sealed.
"""

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models import AuditLink, Case, User
from models.audit import AUDITED_TABLES
from models.enums import AuditKind, Event, Role, SignoffDecision
from models.federation import PushStatus
from models.oversight import OversightState
from models.reports import ReportStatus
from workflows.audit.sources import ADMIN_SOURCES, sources
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ
from workflows.core.errors import InvalidInput, RoleNotAllowed
from workflows.core.roles import ADMINS

# Who reads the audit trail besides the administrators: auditors and the supervision bureau.
AUDIT_READERS = ADMINS | frozenset({Role.AUDITOR, Role.SUPERVISION})
PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class TrailFilter:
    person: str | None = None
    kind: str | None = None
    case: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def describe(self) -> str:
        parts = [f"人员={self.person}" if self.person else "", f"类别={kind_label(self.kind)}" if self.kind else "",
                 f"预警编号={self.case}" if self.case else "",
                 f"起={self.date_from:%Y-%m-%d}" if self.date_from else "",
                 f"止={self.date_to:%Y-%m-%d}" if self.date_to else ""]
        return "；".join(p for p in parts if p) or "全部"


@dataclass(frozen=True)
class TrailRow:
    table_name: str
    id: int
    at: datetime
    kind: str
    kind_label: str
    person: str
    case_number: str | None
    region_path: str | None
    detail: str
    seq: int | None
    hash: str | None


@dataclass
class TrailPage:
    rows: list[TrailRow] = field(default_factory=list)
    next_cursor: str | None = None


def kind_choices(actor: Actor) -> list[tuple[str, str]]:
    tables = ADMIN_SOURCES if actor.role in ADMINS else tuple(AUDITED_TABLES)
    choices = [(name, f"{AUDITED_TABLES[name].label}（全部）") for name in tables]
    return choices + [(k.value, k.label) for k in AuditKind]


IMPORT_STATES = {"queued": "排队中", "running": "导入中", "done": "已完成", "failed": "失败"}
# "<table>:<event>" → the words; `state` is the state the step led to (reports, oversight).
_STEP_WORDS = {
    "case_event": lambda event, state: _label_of(Event, event),
    "slip_version": lambda event, state: f"提交工作单（第 {event} 版）",
    "slip_signoff": lambda event, state: f"处室负责人意见：{_label_of(SignoffDecision, event)}",
    "monthly_report_event": lambda event, state: f"月报流转：{_label_of(ReportStatus, state or event)}",
    "oversight_event": lambda event, state: f"督查约谈：{_label_of(OversightState, state or event)}",
    "import_run": lambda event, state: f"数据导入：{IMPORT_STATES.get(event, event)}",
    "federation_push": lambda event, state: f"向上级报送月报：{_label_of(PushStatus, event)}",
    "received_report": lambda event, state: "收到下级月报",
}


def _label_of(enum, value: str | None) -> str:
    return enum(value).label if value in enum._value2member_map_ else (value or "")


def kind_label(kind: str | None, state: str | None = None) -> str:
    if not kind:
        return ""
    if kind in AUDITED_TABLES:
        return AUDITED_TABLES[kind].label
    if kind in AuditKind._value2member_map_:
        return AuditKind(kind).label
    table, _, event = kind.partition(":")
    words = _STEP_WORDS.get(table)
    return words(event, state) if words else kind


def _check_reader(actor: Actor) -> None:
    if actor.role not in AUDIT_READERS:
        raise RoleNotAllowed("只有系统管理员、审计和监督检查局可以查看审计日志")


def _check_kind(kind: str | None) -> None:
    if not kind or kind in AUDITED_TABLES or kind in AuditKind._value2member_map_:
        return
    if kind.partition(":")[0] not in _STEP_WORDS:
        raise InvalidInput.single("kind", "unknown", f"没有名为 {kind} 的审计记录类别")


def _union(actor: Actor, wanted: TrailFilter) -> sa.Subquery:
    allowed = ADMIN_SOURCES if actor.role in ADMINS else tuple(AUDITED_TABLES)
    if wanted.kind in AUDITED_TABLES:
        allowed = tuple(t for t in allowed if t == wanted.kind)
    selects = [select for name, select in sources().items() if name in allowed]
    if not selects:
        raise InvalidInput.single("kind", "not_allowed", "无权查看该类别的审计记录")
    return sa.union_all(*selects).subquery("trail")


def _bounds(wanted: TrailFilter) -> tuple[datetime | None, datetime | None]:
    if wanted.date_from and wanted.date_to and wanted.date_from > wanted.date_to:
        raise InvalidInput.single("date_to", "before_start", "截止日期不能早于起始日期")
    start = datetime.combine(wanted.date_from, time(), LOCAL_TZ) if wanted.date_from else None
    end = (datetime.combine(wanted.date_to + timedelta(days=1), time(), LOCAL_TZ)
           if wanted.date_to else None)
    return start, end


def trail_query(session: Session, *, actor: Actor, wanted: TrailFilter) -> sa.Select:
    """Every row the actor may read that matches, newest first (no paging)."""
    _check_reader(actor)
    _check_kind(wanted.kind)
    u = _union(actor, wanted)
    person, link = sa.orm.aliased(User), AuditLink.__table__
    query = (
        sa.select(u, person.full_name, person.username.label("person_username"),
                  Case.number.label("case_number"), link.c.seq, link.c.hash)
        .outerjoin(person, person.id == u.c.person_id)
        .outerjoin(Case, Case.id == u.c.case_id)
        .outerjoin(link, sa.and_(link.c.table_name == u.c.table_name, link.c.row_id == u.c.id))
        .order_by(u.c.at.desc(), u.c.src.desc(), u.c.id.desc())
    )
    if actor.role not in ADMINS:
        query = query.where(u.c.region_path.startswith(actor.region_path, autoescape=True))
    if wanted.kind and wanted.kind not in AUDITED_TABLES:
        query = query.where(u.c.kind == wanted.kind)
    if wanted.person:
        user_id = session.scalar(sa.select(User.id).where(User.username == wanted.person))
        if user_id is None:
            raise InvalidInput.single("person", "unknown", f"没有用户名为 {wanted.person} 的账户")
        query = query.where(u.c.person_id == user_id)
    if wanted.case:
        case_id = session.scalar(sa.select(Case.id).where(Case.number == wanted.case))
        if case_id is None:
            raise InvalidInput.single("case", "unknown", f"没有编号为 {wanted.case} 的预警")
        query = query.where(u.c.case_id == case_id)
    start, end = _bounds(wanted)
    if start is not None:
        query = query.where(u.c.at >= start)
    if end is not None:
        query = query.where(u.c.at < end)
    return query


def to_row(row) -> TrailRow:
    person = row.full_name or ""
    if row.person_username:
        person = f"{person}（{row.person_username}）"
    if not person and row.table_name == "audit_event":
        person = row.detail or ""
    return TrailRow(
        table_name=row.table_name, id=row.id, at=row.at, kind=row.kind,
        kind_label=kind_label(row.kind, row.state),
        person=person or "系统", case_number=row.case_number, region_path=row.region_path,
        detail=row.detail or "", seq=row.seq, hash=row.hash,
    )


def encode_cursor(row) -> str:
    raw = f"{row.at.isoformat()}~{row.src}~{row.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, src, id_ = raw.split("~")
        moment, src, id_ = datetime.fromisoformat(at), int(src), int(id_)
        # Values no row can have (an id past BIGINT) would fail in the database, not here.
        if moment.tzinfo is None or not 1 <= src <= len(AUDITED_TABLES) or not 0 < id_ < 2**63:
            raise ValueError("out of range")
        return moment, src, id_
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput.single("cursor", "invalid", "翻页标记无效，请从第一页重新查看") from None


def trail_page(session: Session, *, actor: Actor, wanted: TrailFilter, cursor: str | None = None,
               limit: int = PAGE) -> TrailPage:
    """One page of the trail, and the cursor of the next one (None on the last page)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput.single("limit", "out_of_range", f"每页条数须在 1 到 {MAX_PAGE} 之间")
    query = trail_query(session, actor=actor, wanted=wanted)
    u = query.selected_columns
    if cursor:
        at, src, id_ = decode_cursor(cursor)
        query = query.where(sa.or_(
            u.at < at,
            sa.and_(u.at == at, sa.or_(u.src < src, sa.and_(u.src == src, u.id < id_))),
        ))
    rows = session.execute(query.limit(limit + 1)).all()
    page = TrailPage([to_row(r) for r in rows[:limit]])
    if len(rows) > limit:
        page.next_cursor = encode_cursor(rows[limit - 1])
    return page
