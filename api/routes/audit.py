"""The audit trail (/api/v1/audit): administrators, auditors and the supervision bureau.

What each may read is decided by workflows.audit.trail (administrators: every account's acts
and the imports; auditors and supervision: everything in their region).
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from forms.audit_xlsx import trail_xlsx
from workflows.audit.export import export_trail
from workflows.audit.trail import AUDIT_READERS, MAX_PAGE, PAGE, TrailFilter, trail_page
from workflows.core.clock import now_utc

from ..deps import CurrentActor, SessionDep, allow
from ..params import IsoDate
from .answers import Answer
from .cases import XLSX_RESPONSE, xlsx

router = APIRouter(prefix="/audit", tags=["审计日志"])
READERS = [Depends(allow(AUDIT_READERS))]


class TrailRowOut(Answer):
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


class TrailOut(BaseModel):
    items: list[TrailRowOut]
    next_cursor: str | None


def trail_filter(
    person: Annotated[str | None, Query(max_length=64, description="人员（用户名）")] = None,
    kind: Annotated[str | None, Query(max_length=80, description="类别：来源表（如 case_event）或具体类别（如 login）")] = None,
    case: Annotated[str | None, Query(max_length=20, description="预警编号")] = None,
    date_from: Annotated[IsoDate | None, Query(description="起始日期（含）")] = None,
    date_to: Annotated[IsoDate | None, Query(description="截止日期（含）")] = None,
) -> TrailFilter:
    return TrailFilter(person=person or None, kind=kind or None, case=case or None,
                       date_from=date_from, date_to=date_to)


Filter = Annotated[TrailFilter, Depends(trail_filter)]


@router.get("", response_model=TrailOut, summary="审计日志", dependencies=READERS)
def trail(actor: CurrentActor, session: SessionDep, wanted: Filter,
          limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="每页条数")] = PAGE,
          cursor: Annotated[str | None, Query(max_length=512, description="下一页标记")] = None,
          ) -> TrailOut:
    page = trail_page(session, actor=actor, wanted=wanted, cursor=cursor, limit=limit)
    return TrailOut(items=[TrailRowOut.model_validate(r) for r in page.rows], next_cursor=page.next_cursor)


@router.get("/export.xlsx", summary="导出审计日志（XLSX，含校验清单）", dependencies=READERS,
            response_class=Response, responses=XLSX_RESPONSE)  # fmt: skip
def trail_export(actor: CurrentActor, session: SessionDep, wanted: Filter) -> Response:
    now = now_utc()
    export = export_trail(session, actor=actor, wanted=wanted, as_of=now)
    return xlsx(trail_xlsx(export), "审计日志", now)
