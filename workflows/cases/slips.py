"""Processing slips: what a valid slip says, filing one (for one case or a batch) and amending
it with every earlier version kept."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import Session

from models import CaseSlip, Slip, SlipSignoff, SlipVersion
from models.db import pg_cast, pg_value
from models.enums import (
    AmountBasis,
    Conclusion,
    Measure,
    SignoffDecision,
    SlipKind,
    VerifyMethod,
    ViolationType,
)
from workflows.core.actors import Actor
from workflows.core.errors import (
    FieldError,
    InvalidInput,
)
from workflows.core.numbering import allocate_numbers, counter_key, pg_allocate_one_sql

SLIP_PREFIX = {SlipKind.VERIFICATION: "HS", SlipKind.RECTIFICATION: "ZG"}

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]


class SlipInput(BaseModel):
    """A slip as a handler fills it in; `check()` applies the rules that depend on its kind."""

    model_config = ConfigDict(extra="forbid")

    kind: SlipKind
    methods: list[VerifyMethod] = []
    findings: Text = ""
    conclusion: Conclusion | None = None
    violation_type: ViolationType | None = None
    amount_involved: Amount | None = None
    measures: list[Measure] = []
    measures_detail: Text = ""
    amount_recovered: Amount | None = None
    completed_on: date | None = None
    multiple_payments_reason: Text = ""
    amount_basis: AmountBasis | None = None
    filler_name: ShortText = ""
    filler_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""

    def check(self, *, prefix: str = "slip", today: date | None = None) -> None:
        """Raise InvalidInput naming every field that is missing or inconsistent."""
        errors: list[FieldError] = []

        def need(ok: bool, name: str, message: str) -> None:
            if not ok:
                errors.append(FieldError(f"{prefix}.{name}", "required", message))

        if self.kind == SlipKind.VERIFICATION:
            need(bool(self.methods), "methods", "请选择核实方式")
            need(bool(self.findings), "findings", "请填写核实情况")
            need(self.conclusion is not None, "conclusion", "请选择认定结论（正常或违规）")
            if self.conclusion == Conclusion.VIOLATION:
                need(self.violation_type is not None, "violation_type", "认定违规时须选择违规类型")
                need(self.amount_involved is not None, "amount_involved", "认定违规时须填写涉及金额")
            elif self.conclusion == Conclusion.NORMAL and self.violation_type is not None:
                errors.append(
                    FieldError(f"{prefix}.violation_type", "inconsistent", "认定正常时不应填写违规类型")
                )
        else:
            need(bool(self.measures), "measures", "请选择整改措施")
            need(bool(self.measures_detail), "measures_detail", "请填写整改情况说明")
            need(self.completed_on is not None, "completed_on", "请填写整改完成日期")
            if Measure.FUNDS_RECOVERED in self.measures:
                need(
                    bool(self.amount_recovered),
                    "amount_recovered",
                    "选择“收回资金”时须填写收回金额",
                )
            if self.completed_on and today and self.completed_on > today:
                errors.append(
                    FieldError(f"{prefix}.completed_on", "future_date", "整改完成日期不能晚于今天")
                )
        need(bool(self.filler_name), "filler_name", "请填写填报人")
        if errors:
            raise InvalidInput("处理单填写不完整或有误，请按提示修改", errors=errors)

    def fields(self) -> dict:
        return self.model_dump(mode="json", exclude={"kind"})


_INSERT_SLIP = sa.insert(Slip.__table__).returning(Slip.__table__.c.id)
_INSERT_SLIP_VERSION = sa.insert(SlipVersion.__table__)
_INSERT_CASE_SLIP = sa.insert(CaseSlip.__table__)


def file_slip(
    session: Session, *, slip: SlipInput, actor: Actor, case_ids: list[int], as_of: datetime
) -> int:
    """Store a new slip, version 1, linked to every case it covers; returns its id."""
    connection = session.connection()
    number = allocate_numbers(session, prefix=SLIP_PREFIX[slip.kind], at=as_of)[0]
    values = slip.model_dump(exclude={"kind"})
    slip_id = connection.execute(
        _INSERT_SLIP,
        {"number": number, "kind": slip.kind, "version": 1, "filed_by_id": actor.user_id,
         "filed_at": as_of, "updated_at": as_of, **values},
    ).scalar_one()
    connection.execute(
        _INSERT_SLIP_VERSION,
        {"slip_id": slip_id, "version": 1, "fields": slip.fields(), "author_id": actor.user_id,
         "created_at": as_of},
    )
    connection.execute(_INSERT_CASE_SLIP, [{"case_id": cid, "slip_id": slip_id} for cid in case_ids])
    return slip_id


def _latest_slip_id(case_id, kind) -> sa.ScalarSelect:
    slips, links = Slip.__table__, CaseSlip.__table__
    return (
        sa.select(sa.func.max(slips.c.id))
        .join(links, links.c.slip_id == slips.c.id)
        .where(links.c.case_id == case_id, slips.c.kind == kind)
        .scalar_subquery()
    )


def _sign_latest_slip_insert() -> sa.Insert:
    """The sign-off row on the current version of the case's latest slip of a kind."""
    slips, signoffs = Slip.__table__, SlipSignoff.__table__
    source = sa.select(
        slips.c.id, slips.c.version, sa.bindparam("b_case_id", type_=sa.Integer),
        sa.bindparam("b_supervisor_id", type_=sa.Integer),
        sa.bindparam("b_decision", type_=signoffs.c.decision.type),
        sa.bindparam("b_opinion", type_=sa.Text),
        sa.bindparam("b_at", type_=signoffs.c.signed_at.type),
    ).where(slips.c.id == _latest_slip_id(sa.bindparam("b_case_id"), sa.bindparam("b_kind")))
    columns = ["slip_id", "slip_version", "case_id", "supervisor_id", "decision", "opinion", "signed_at"]
    return sa.insert(signoffs).from_select(columns, source).returning(signoffs.c.slip_id)


_SIGN_LATEST_SLIP = _sign_latest_slip_insert()


def signed_opinion(
    decision: SignoffDecision, comment: str | None, kind: SlipKind = SlipKind.RECTIFICATION
) -> str:
    """What the supervisor's review says on the slip, in the words of a signed form."""
    comment = (comment or "").strip()
    if decision == SignoffDecision.SENT_BACK:
        again = "重新核实" if kind == SlipKind.VERIFICATION else "整改"
        return f"退回{again}：{comment}"
    return f"同意。{comment}" if comment else "同意。"


def sign_latest_slip(
    session: Session,
    *,
    case_id: int,
    kind: SlipKind,
    actor: Actor,
    decision: SignoffDecision,
    comment: str | None,
    as_of: datetime,
) -> int | None:
    """The supervisor's sign-off, for this case, on the current version of its latest slip
    of this kind; returns the slip's id (None when the case has no such slip)."""
    return session.connection().execute(
        _SIGN_LATEST_SLIP,
        {"b_case_id": case_id, "b_kind": kind, "b_supervisor_id": actor.user_id,
         "b_decision": decision, "b_opinion": signed_opinion(decision, comment, kind), "b_at": as_of},
    ).scalar_one_or_none()


# PostgreSQL: file_slip() and sign_latest_slip() as parts (CTEs) of transition()'s single
# write statement, run only for the rows of the CTE `case_cte` (the guarded case UPDATE: no
# row, nothing written). Same rows and values as the functions above.
_SLIP_FIELDS = tuple(name for name in SlipInput.model_fields if name != "kind")


def pg_file_slip_ctes(case_cte: str) -> str:
    slips = Slip.__table__
    values = ", ".join(f"%(s_{name})s::{pg_cast(slips.c[name])}" for name in _SLIP_FIELDS)
    at = f"%(s_at)s::{pg_cast(slips.c.filed_at)}"
    return f"""slip_number AS ({pg_allocate_one_sql("s_counter", case_cte)}),
new_slip AS (
    INSERT INTO slip (number, kind, version, filed_by_id, filed_at, updated_at, {", ".join(_SLIP_FIELDS)})
    SELECT number, %(s_kind)s::VARCHAR(32), 1, %(s_actor)s::INTEGER, {at}, {at}, {values}
    FROM slip_number
    RETURNING id),
new_slip_version AS (
    INSERT INTO slip_version (slip_id, version, fields, author_id, created_at)
    SELECT id, 1, %(s_fields)s::JSON, %(s_actor)s::INTEGER, {at} FROM new_slip),
new_case_slip AS (
    INSERT INTO case_slip (case_id, slip_id) SELECT {case_cte}.id, new_slip.id FROM {case_cte}, new_slip)"""


def pg_file_slip_params(slip: SlipInput, actor: Actor, as_of: datetime) -> dict:
    values = slip.model_dump(exclude={"kind"})
    params = {f"s_{name}": pg_value(value) for name, value in values.items()}
    params.update(
        s_counter=counter_key(SLIP_PREFIX[slip.kind], as_of), s_kind=slip.kind.value,
        s_actor=actor.user_id, s_at=as_of, s_fields=pg_value(slip.fields()),
    )  # fmt: skip
    return params


def pg_sign_latest_slip_cte(case_cte: str) -> str:
    at = pg_cast(SlipSignoff.__table__.c.signed_at)
    return f"""signed_slip AS (
    INSERT INTO slip_signoff (slip_id, slip_version, case_id, supervisor_id, decision, opinion, signed_at)
    SELECT s.id, s.version, {case_cte}.id, %(g_actor)s::INTEGER, %(g_decision)s::VARCHAR(32),
           %(g_opinion)s::TEXT, %(g_at)s::{at}
    FROM {case_cte} JOIN slip AS s ON s.id = (
        SELECT max(m.id) FROM slip AS m JOIN case_slip AS l ON l.slip_id = m.id
        WHERE l.case_id = {case_cte}.id AND m.kind = %(g_kind)s::VARCHAR(32)))"""


def pg_sign_latest_slip_params(
    kind: SlipKind, actor: Actor, decision: SignoffDecision, comment: str | None, as_of: datetime
) -> dict:
    return {"g_actor": actor.user_id, "g_decision": decision.value,
            "g_opinion": signed_opinion(decision, comment, kind), "g_at": as_of, "g_kind": kind.value}
