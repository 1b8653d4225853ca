"""The daily digest (working days, 08:30 Asia/Shanghai): what is due today, overdue, waiting.

One query over the open cases joined to the people they concern (handlers: their section's
cases assigned to them or to nobody; supervisors: their whole section, and the
rectification reviews waiting for them), grouped per person in Python — the loop runs over
the result, not over every user or case. Queued through `workflows.core.notify.queue` with
dedupe key `digest:<user_id>:<date>`, so a second run on the same day queues nothing.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, Region, Rule, User
from models.enums import OPEN_STATES, Role, State
from models.notifications import NotificationKind
from models.settings import Settings, get_settings
from workflows.core.calendar import WorkingCalendar, chinese_date, load_calendar, local_date
from workflows.core.notify import NotificationItem, queue

# A digest is a pointer to the lists, not the lists: longer sections end with "另有 N 件".
MAX_LINES = 30
WEEKDAYS = "一二三四五六日"
# Raised and not yet taken up by anyone: what a handler must start.
_NEW_FOR_HANDLER = (State.YELLOW_BELL, State.YELLOW_LIGHT, State.RED_LIGHT)


@dataclass
class _Line:
    number: str
    rule: str
    region: str
    due_on: date | None
    state: State


@dataclass
class _Digest:
    name: str
    overdue: list[_Line] = field(default_factory=list)
    due_today: list[_Line] = field(default_factory=list)
    waiting: list[_Line] = field(default_factory=list)


def build_digests(
    session: Session, *, as_of: datetime, calendar: WorkingCalendar | None = None,
    settings: Settings | None = None,
) -> int:
    """Queue today's digest for every handler and supervisor with something to report."""
    today = local_date(as_of)
    calendar = calendar or load_calendar(session)
    if not calendar.is_working_day(today):
        return 0
    settings = settings or get_settings()
    digests: dict[int, _Digest] = {}
    seen: set[tuple[int, str]] = set()
    for user_id, name, number, rule, region, due_on, state in session.execute(
        _query(today)
    ):
        if (user_id, number) in seen:  # a case matching twice for one person lists once
            continue
        seen.add((user_id, number))
        digest = digests.setdefault(user_id, _Digest(name))
        line = _Line(number, rule, region, due_on, State(state))
        if due_on is not None and due_on < today:
            digest.overdue.append(line)
        elif due_on == today:
            digest.due_today.append(line)
        else:
            digest.waiting.append(line)
    base = settings.public_base_url.rstrip("/")
    items = [
        NotificationItem(
            user_id=user_id, kind=NotificationKind.DIGEST,
            subject=digest_subject(today, d), body=digest_body(today, d, base, calendar),
            dedupe_key=f"digest:{user_id}:{today.isoformat()}", link="/work",
            payload={"overdue": [x.number for x in d.overdue],
                     "due_today": [x.number for x in d.due_today],
                     "waiting": [x.number for x in d.waiting]},
        )
        for user_id, d in sorted(digests.items())
    ]
    return queue(session, items=items, as_of=as_of)


def _query(today: date) -> sa.Select:
    open_ = Case.state.in_(OPEN_STATES)
    urgent = sa.and_(Case.due_on.is_not(None), Case.due_on <= today)
    columns = (User.id, User.full_name, Case.number, Rule.name, Region.name,
               Case.due_on, Case.state)
    active = sa.and_(User.is_active, User.revoked_at.is_(None))

    def joined(q: sa.Select) -> sa.Select:
        return q.join(Rule, Rule.id == Case.rule_id).join(Region, Region.id == Case.region_id)

    handlers = joined(
        sa.select(*columns).select_from(User)
        .join(Case, Case.org_unit_id == User.org_unit_id)
        .where(active, User.role == Role.HANDLER, open_,
               sa.or_(Case.assignee_id == User.id, Case.assignee_id.is_(None)),
               Case.state != State.RECTIFICATION_REVIEW,
               sa.or_(urgent, Case.state.in_(_NEW_FOR_HANDLER)))
    )
    supervisors = joined(
        sa.select(*columns).select_from(User)
        .join(Case, Case.org_unit_id == User.org_unit_id)
        .where(active, User.role == Role.SUPERVISOR, open_,
               sa.or_(urgent, Case.state == State.RECTIFICATION_REVIEW))
    )
    union = sa.union_all(handlers, supervisors).subquery()
    return sa.select(*union.c).order_by(union.c[0], union.c[5].nulls_last(), union.c[2])


def digest_subject(today: date, d: _Digest) -> str:
    return (f"【预警待办】{today.month}月{today.day}日：逾期 {len(d.overdue)} 件，"
            f"今日到期 {len(d.due_today)} 件，待处理 {len(d.waiting)} 件")


def digest_body(today: date, d: _Digest, base: str, calendar: WorkingCalendar) -> str:
    lines = [f"{d.name}，您好！",
             f"以下是 {today.year}年{today.month}月{today.day}日（星期{WEEKDAYS[today.weekday()]}）"
             "的预警处理待办："]
    sections = (("已逾期", d.overdue), ("今日到期", d.due_today), ("待您处理", d.waiting))
    for title, items in sections:
        if not items:
            continue
        lines += ["", f"{title}（{len(items)} 件）："]
        for x in items[:MAX_LINES]:
            if x.due_on is None:
                when = "无办理期限"
            elif x.due_on < today:
                late = calendar.working_days_between(x.due_on, today)
                when = f"期限 {chinese_date(x.due_on)}，已逾期 {late} 个工作日"
            else:
                when = f"期限 {chinese_date(x.due_on)}"
            lines.append(f"- {x.number} {x.rule}（{x.region}，{x.state.label}）{when}"
                         f"  {base}/cases/{x.number}")
        if len(items) > MAX_LINES:
            lines.append(f"- ……另有 {len(items) - MAX_LINES} 件，请登录系统查看")
    lines += ["", f"我的待办：{base}/work", "", "（本消息由预警处理系统自动发送，请勿直接回复）"]
    return "\n".join(lines)
