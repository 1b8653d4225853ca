"""Reading slips: one slip or every slip of a case, with its versions, people and attachments.

Read scope: a case reader in scope of at least one case the slip covers; of a batch slip's
cases, only those in the reader's scope are listed.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from models import (
    Attachment,
    Case,
    CaseSlip,
    Region,
    Slip,
    SlipFields,
    SlipSignoff,
    SlipVersion,
    User,
)
from models.enums import Conclusion, SignoffDecision, SlipKind
from workflows.cases.attachments import NON_READERS
from workflows.core.actors import Actor
from workflows.core.errors import NotFound, OutOfScope, RoleNotAllowed

FIELD_NAMES = tuple(SlipFields.model_fields)
# Which fields each kind of slip uses, in the order they are shown and printed.
KIND_FIELDS = {
    SlipKind.VERIFICATION: (
        "methods", "findings", "conclusion", "violation_type", "amount_involved",
        "multiple_payments_reason", "amount_basis", "filler_name", "filler_phone",
    ),
    SlipKind.RECTIFICATION: (
        "measures", "measures_detail", "amount_recovered", "amount_basis", "completed_on",
        "filler_name", "filler_phone",
    ),
}


class CaseRef(NamedTuple):
    id: int
    number: str


class SignoffView(NamedTuple):
    """The supervisor's sign-off on one version of the slip for one case."""

    slip_version: int
    case_id: int
    case_number: str
    supervisor_name: str
    decision: SignoffDecision
    opinion: str
    signed_at: datetime
    voided_at: datetime | None
    void_reason: str | None


class SlipVersionView(NamedTuple):
    version: int
    fields: dict[str, Any]  # typed like `SlipView.fields` (Decimal, date, enums)
    author_name: str
    created_at: datetime
    reason: str | None  # empty for version 1 (filed, not amended)


@dataclass(frozen=True)
class AttachmentView:
    id: int
    filename: str
    size: int
    content_type: str
    uploaded_at: datetime
    uploaded_by_name: str
    added_in_version: int = 1
    removed_in_version: int | None = None


@dataclass(frozen=True)
class SlipView:
    id: int
    number: str
    kind: SlipKind
    version: int
    fields: dict[str, Any]  # the current fields, typed (Decimal, date, enums)
    filed_by_name: str
    filed_at: datetime
    updated_at: datetime
    cases: list[CaseRef] = field(default_factory=list)
    # Per (version, case), oldest first; only the cases in the reader's scope.
    signoffs: list[SignoffView] = field(default_factory=list)
    versions: list[SlipVersionView] = field(default_factory=list)  # 1..n in order
    attachments: list[AttachmentView] = field(default_factory=list)  # current ones, oldest first

    @property
    def kind_label(self) -> str:
        return self.kind.label

    @property
    def conclusion(self) -> Conclusion | None:
        return self.fields.get("conclusion")

    def signoff(self, *, case_id: int, version: int | None = None) -> SignoffView | None:
        """The sign-off on `version` (default: the current one) for this case, if any."""
        version = self.version if version is None else version
        found = [s for s in self.signoffs if s.case_id == case_id and s.slip_version == version]
        return found[-1] if found else None

    @property
    def shown_fields(self) -> dict[str, Any]:
        """The fields this kind of slip uses, in order."""
        return {name: self.fields.get(name) for name in KIND_FIELDS[self.kind]}


def get_slip(session: Session, *, actor: Actor, slip_id: int) -> SlipView:
    """One slip for a reader in scope of one of its cases (NotFound / OutOfScope otherwise)."""
    _check_reader(actor)
    views = _views(session, actor=actor, slip_ids=[slip_id])
    if not views:
        if session.get(Slip, slip_id) is None:
            raise NotFound("处理单不存在")
        raise OutOfScope("无权查看该处理单")
    return views[0]


def slips_of_case(
    session: Session, *, actor: Actor, case_id: int | None = None, number: str | None = None
) -> list[SlipView]:
    """Every slip filed on a case (by id or number), oldest first, for a reader in its scope."""
    _check_reader(actor)
    where = Case.id == case_id if case_id is not None else Case.number == number
    case = session.connection().execute(
        sa.select(Case.id, Case.org_unit_id, Region.path)
        .join(Region, Region.id == Case.region_id)
        .where(where)
    ).one_or_none()
    if case is None:
        raise NotFound("预警不存在")
    if not actor.in_scope(region_path=case.path, org_unit_id=case.org_unit_id):
        raise OutOfScope("无权查看该预警")
    slip_ids = session.connection().execute(
        sa.select(CaseSlip.slip_id).where(CaseSlip.case_id == case.id)
    ).scalars().all()
    return _views(session, actor=actor, slip_ids=list(slip_ids))


def _check_reader(actor: Actor) -> None:
    if actor.role in NON_READERS:
        raise RoleNotAllowed("您的角色无权查看处理单")


def typed_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """A stored version's JSON fields as Python values, like the current ones."""
    known = {k: v for k, v in (raw or {}).items() if k in FIELD_NAMES}
    try:
        return SlipFields.model_validate(known).model_dump()
    except ValueError:
        # A version written by an older form that no longer validates: show it as stored.
        return dict(raw or {})


def _views(session: Session, *, actor: Actor, slip_ids: list[int]) -> list[SlipView]:
    """Views of the readable slips among `slip_ids`, in a handful of queries, oldest first."""
    if not slip_ids:
        return []
    conn = session.connection()
    cases_of: dict[int, list[CaseRef]] = {}
    for row in conn.execute(
        sa.select(CaseSlip.slip_id, Case.id, Case.number, Case.org_unit_id, Region.path)
        .join(Case, Case.id == CaseSlip.case_id)
        .join(Region, Region.id == Case.region_id)
        .where(CaseSlip.slip_id.in_(slip_ids))
        .order_by(Case.number)
    ):
        if actor.in_scope(region_path=row.path, org_unit_id=row.org_unit_id):
            cases_of.setdefault(row.slip_id, []).append(CaseRef(row.id, row.number))
    readable = list(cases_of)
    if not readable:
        return []
    # populate_existing: amendments are written with Core updates the identity map did not see.
    slips = session.execute(
        sa.select(Slip).where(Slip.id.in_(readable)).order_by(Slip.filed_at, Slip.id)
        .execution_options(populate_existing=True)
    ).scalars().all()
    versions = conn.execute(
        sa.select(SlipVersion.__table__).where(SlipVersion.slip_id.in_(readable))
        .order_by(SlipVersion.slip_id, SlipVersion.version)
    ).all()
    attachments = conn.execute(
        sa.select(Attachment.__table__).where(
            Attachment.slip_id.in_(readable), Attachment.removed_in_version.is_(None)
        ).order_by(Attachment.uploaded_at, Attachment.id)
    ).all()
    signoffs = conn.execute(
        sa.select(SlipSignoff.__table__).where(SlipSignoff.slip_id.in_(readable))
        .order_by(SlipSignoff.slip_id, SlipSignoff.slip_version, SlipSignoff.signed_at, SlipSignoff.id)
    ).all()
    user_ids = {s.filed_by_id for s in slips} | {g.supervisor_id for g in signoffs}
    user_ids |= {v.author_id for v in versions} | {a.uploaded_by_id for a in attachments}
    names = dict(
        conn.execute(sa.select(User.id, User.full_name).where(User.id.in_(user_ids))).all()
    )
    versions_of: dict[int, list[SlipVersionView]] = {}
    for v in versions:
        versions_of.setdefault(v.slip_id, []).append(
            SlipVersionView(v.version, typed_fields(v.fields), names.get(v.author_id, ""), v.created_at, v.reason)
        )
    attachments_of: dict[int, list[AttachmentView]] = {}
    for a in attachments:
        attachments_of.setdefault(a.slip_id, []).append(
            AttachmentView(
                id=a.id, filename=a.filename, size=a.size, content_type=a.content_type,
                uploaded_at=a.uploaded_at, uploaded_by_name=names.get(a.uploaded_by_id, ""),
                added_in_version=a.added_in_version, removed_in_version=a.removed_in_version,
            )
        )
    numbers = {c.id: c.number for refs in cases_of.values() for c in refs}
    signoffs_of: dict[int, list[SignoffView]] = {}
    for g in signoffs:
        if g.case_id in numbers:
            signoffs_of.setdefault(g.slip_id, []).append(
                SignoffView(
                    slip_version=g.slip_version, case_id=g.case_id, case_number=numbers[g.case_id],
                    supervisor_name=names.get(g.supervisor_id, ""),
                    decision=SignoffDecision(g.decision), opinion=g.opinion, signed_at=g.signed_at,
                    voided_at=g.voided_at, void_reason=g.void_reason,
                )
            )
    return [
        SlipView(
            id=s.id,
            number=s.number,
            kind=SlipKind(s.kind),
            version=s.version,
            fields={name: getattr(s, name) for name in FIELD_NAMES},
            filed_by_name=names.get(s.filed_by_id, ""),
            filed_at=s.filed_at,
            updated_at=s.updated_at,
            cases=cases_of[s.id],
            signoffs=signoffs_of.get(s.id, []),
            versions=versions_of.get(s.id, []),
            attachments=attachments_of.get(s.id, []),
        )
        for s in slips
    ]


def check_printable(
    session: Session, *, actor: Actor, slip_id: int, case_id: int | None = None,
    version: int | None = None,
) -> SlipView:  # fmt: skip
    """The slip, if this reader may print it (for one of its cases when `case_id` is given,
    as version `version` when given)."""
    view = get_slip(session, actor=actor, slip_id=slip_id)
    if case_id is not None and case_id not in {c.id for c in view.cases}:
        # Another case, or one of a batch outside the reader's scope: as if absent.
        raise NotFound("该处理单不涉及此预警")
    if version is not None and not 1 <= version <= view.version:
        raise NotFound(f"处理单没有第 {version} 版")
    return view
