"""The oversight papers as official PDFs: 督查通知书 and 督查报告 of a special inspection,
约谈通知书 and 约谈记录 of an interview. Each is available once the record holds what it
prints (a report once submitted, an interview notice once arranged, a record once held)."""

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.oversight import OversightEvent, OversightKind
from workflows.core.errors import InvalidState, NotFound
from workflows.oversight.cases import report_author
from workflows.oversight.evidence import streak_warnings
from workflows.oversight.forms import INSPECTION_FIELDS

from .official_pdf import official_pdf

# doc → (kind, title, the record fields it needs)
DOCUMENTS = {
    "inspection_notice": (OversightKind.INSPECTION, "督查通知书", ()),
    "inspection_report": (OversightKind.INSPECTION, "督查报告", tuple(INSPECTION_FIELDS)),
    "interview_notice": (OversightKind.INTERVIEW, "约谈通知书", ("interview_date", "place", "interviewee")),
    "interview_record": (OversightKind.INTERVIEW, "约谈记录",
                         ("interview_date", "place", "interviewee", "attendees", "minutes")),
}


def available_documents(row) -> list[tuple[str, str]]:
    record = row.record or {}
    return [(doc, title) for doc, (kind, title, needs) in DOCUMENTS.items()
            if kind == row.kind and all(record.get(f) for f in needs)]


def _name(session: Session, user_id: int | None) -> str:
    return (session.get(User, user_id).full_name if user_id else "") or ""


def _first_at(session: Session, oversight_id: int, event: str):
    return session.connection().execute(
        sa.select(OversightEvent.at).where(OversightEvent.oversight_id == oversight_id,
                                           OversightEvent.event == event)
        .order_by(OversightEvent.seq.desc()).limit(1)
    ).scalar()


def _months(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def oversight_pdf(session: Session, row, doc: str) -> tuple[str, bytes]:
    """(title, PDF bytes) of one paper of this (loaded, in-scope) oversight case."""
    if doc not in DOCUMENTS:
        raise NotFound("没有这种公文")
    kind, title, needs = DOCUMENTS[doc]
    if kind != row.kind:
        raise NotFound("没有这种公文")
    record = row.record or {}
    if not all(record.get(f) for f in needs):
        raise InvalidState(f"{row.number} 尚未填写{title}所需内容，暂不能打印{title}")
    owner = session.get(OrgUnit, row.owner_org_unit_id)
    context = {
        "title": title, "row": row, "record": record, "issuer": owner.name,
        "months": _months(row.streak_start, row.streak_end), "doc": doc,
        "labels": INSPECTION_FIELDS, "issued_on": row.opened_at,
    }
    if doc == "inspection_notice":
        context["warnings"] = streak_warnings(session, region_id=row.region_id, first=row.streak_start,
                                              last=row.streak_end)
    if doc == "inspection_report":
        author = report_author(session, oversight_id=row.id)
        context.update(author=_name(session, author), approver=_name(session, record.get("report_approved_by_id")),
                       reported_at=_first_at(session, row.id, "submit_report"),
                       approved_at=_first_at(session, row.id, "close"))
    if doc in ("interview_notice", "interview_record"):
        context["interview_date"] = date.fromisoformat(record["interview_date"])
    return title, official_pdf("oversight.html", context)


def notice_pdf(session: Session, notice) -> bytes:
    """The 通报 of slow regions as issued (the list frozen in the notice)."""
    issuer = session.get(Region, notice.issuer_region_id)
    return official_pdf("notice.html", {"notice": notice, "issuer": f"{issuer.name}财政厅"})
