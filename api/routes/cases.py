"""Cases over JSON: the list, one case, acting on one or many, the per-rule summary, exports.

Every route is parse → one workflows call → render; scope, roles and the lifecycle are
decided in workflows/cases/ (queries, detail, actions, summary).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response

from forms.spreadsheets import rule_summary_xlsx, tracking_xlsx
from workflows.cases.actions import act_on_case, act_on_cases
from workflows.cases.detail import get_case_detail
from workflows.cases.duties import open_duty_evidence
from workflows.cases.queries import MAX_LIMIT, CaseFilters, case_row, iter_cases, list_cases
from workflows.cases.summary import rule_summary, totals
from workflows.core.calendar import local_date
from workflows.core.clock import now_utc
from workflows.core.letterhead import letterhead_for
from workflows.core.roles import CASE_ACTORS, CASE_READERS

from ..deps import CurrentActor, SessionDep, SettingsDep, allow
from .case_schemas import (
    BatchIn,
    BatchOut,
    CaseItem,
    CaseList,
    CaseOut,
    SummaryOut,
    SummaryRowOut,
    TransitionIn,
    case_filters,
)
from .slips import attachment_file, content_disposition

router = APIRouter(tags=["预警案件"])

READERS = [Depends(allow(CASE_READERS))]
ACTORS = [Depends(allow(CASE_ACTORS))]
Filters = Annotated[CaseFilters, Depends(case_filters)]
Region = Annotated[str | None, Query(max_length=12, description="区划代码（含下级）")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_RESPONSE = {200: {"content": {XLSX: {}}, "description": "XLSX 文件"}}


def xlsx(data: bytes, title: str, now) -> Response:
    filename = f"{title}-{local_date(now):%Y%m%d}.xlsx"
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": "private, no-store",
    })  # fmt: skip


@router.get(
    "/cases", response_model=CaseList, summary="预警列表（筛选、翻页）", dependencies=READERS
)
def cases_list(
    actor: CurrentActor,
    session: SessionDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数")] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="下一页标记")] = None,
) -> CaseList:
    page = list_cases(
        session, actor=actor, filters=filters, as_of=now_utc(), limit=limit, cursor=cursor or None
    )
    return CaseList(items=[CaseItem.of(r) for r in page.rows], next_cursor=page.next_cursor)


# Declared before /cases/{number}, which would otherwise take "export.xlsx" for a number.
@router.get("/cases/export.xlsx", summary="导出预警跟踪清单（XLSX）", dependencies=READERS,
            response_class=Response, responses=XLSX_RESPONSE)  # fmt: skip
def cases_export(actor: CurrentActor, session: SessionDep, filters: Filters) -> Response:
    now = now_utc()
    rows = iter_cases(session, actor=actor, filters=filters, as_of=now)
    return xlsx(tracking_xlsx(rows, letterhead_for(session, actor, as_of=now)), "预警跟踪清单", now)


@router.get("/cases/{number}", response_model=CaseOut, summary="预警详情", dependencies=READERS)
def case_read(number: str, actor: CurrentActor, session: SessionDep) -> CaseOut:
    return CaseOut.of_detail(get_case_detail(session, actor=actor, number=number, as_of=now_utc()))


@router.get("/cases/{number}/evidence/{sha256}", summary="下载履职凭证（报送按时履职时上传的附件）",
            dependencies=READERS, response_class=FileResponse)  # fmt: skip
def case_evidence(
    number: str, sha256: str, actor: CurrentActor, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    evidence, path = open_duty_evidence(session, actor=actor, number=number, sha256=sha256,
                                        files_dir=settings.files_dir)
    return attachment_file(evidence, path)


@router.post(
    "/cases/{number}/transitions",
    response_model=CaseOut,
    summary="办理预警（报送履职、核实、整改、审核、移交、改派）",
    dependencies=ACTORS,
    responses={409: {"description": "版本已过期或状态不允许"}, 422: {"description": "填写有误"}},
)
def case_transition(
    number: str, body: TransitionIn, actor: CurrentActor, session: SessionDep
) -> CaseOut:
    now = now_utc()
    result = act_on_case(
        session, actor=actor, number=number, event=body.event, version=body.version, as_of=now,
        slip=body.slip, comment=body.comment, assignee_id=body.assignee_id, done_at=body.done_at,
    )  # fmt: skip
    # Commit before reading the answer: a slip filing holds the month's number counter row
    # until commit, and every other slip filing in the province waits for it.
    session.commit()
    detail = get_case_detail(session, actor=actor, number=number, as_of=now, case_id=result.case_id)
    return CaseOut.of_detail(detail)


@router.post(
    "/transitions/batch",
    response_model=BatchOut,
    summary="批量办理（一张处理单，全部成功或全部不办理）",
    dependencies=ACTORS,
    responses={409: {"description": "有案件不能办理，全部未提交（batch_refused）"}},
)
def cases_transition_batch(body: BatchIn, actor: CurrentActor, session: SessionDep) -> BatchOut:
    now = now_utc()
    results = act_on_cases(
        session, actor=actor, cases=[(c.number, c.version) for c in body.cases],
        event=body.event, as_of=now, slip=body.slip, comment=body.comment,
        assignee_id=body.assignee_id,
    )  # fmt: skip
    session.commit()  # release the number counter before reading the answer (see above)
    rows = [case_row(session, case_id=r.case_id, as_of=now) for r in results]
    return BatchOut(items=[CaseItem.of(r) for r in rows], slip_id=results[0].slip_id)


@router.get("/summary", response_model=SummaryOut, summary="分规则汇总表", dependencies=READERS)
def summary(actor: CurrentActor, session: SessionDep, region: Region = None) -> SummaryOut:
    rows = rule_summary(session, actor=actor, as_of=now_utc(), region=region or None)
    sums = totals(rows)
    total = (
        SummaryRowOut.model_validate({"rule_code": None, "rule_name": "合计", "category": None, **sums})
        if sums else None
    )  # fmt: skip
    return SummaryOut(rows=[SummaryRowOut.of(r) for r in rows], totals=total)


@router.get("/summary/export.xlsx", summary="导出分规则汇总表（XLSX）", dependencies=READERS,
            response_class=Response, responses=XLSX_RESPONSE)  # fmt: skip
def summary_export(actor: CurrentActor, session: SessionDep, region: Region = None) -> Response:
    now = now_utc()
    rows = rule_summary(session, actor=actor, as_of=now, region=region or None)
    return xlsx(rule_summary_xlsx(rows, letterhead_for(session, actor, as_of=now)), "规则汇总表", now)
