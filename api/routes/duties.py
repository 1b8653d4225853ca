"""A yellow bell's duty reported done: by the monitoring platform (POST /api/v1/duties/complete,
the moment from its data) or by the case's handler with the evidence files (POST
/api/v1/cases/{number}/duty-report, multipart; without files the case's transitions route
takes the same report as JSON)."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from models.enums import Event, State
from workflows.cases.actions import act_on_case
from workflows.cases.attachments import Upload
from workflows.cases.detail import get_case_detail
from workflows.cases.duties import report_duty_done
from workflows.core.clock import now_utc
from workflows.core.roles import HANDLERS, PLATFORM

from ..deps import CurrentActor, SessionDep, SettingsDep, allow
from .case_schemas import CaseOut

router = APIRouter(tags=["预警导入"])


class DutyDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=32, description="预警来源（导入时的 source）")
    external_id: str = Field(min_length=1, max_length=64, description="平台的预警编号（导入时的 external_id）")
    done_at: AwareDatetime = Field(description="履职完成的时刻，须带时区")


class DutyDoneOut(BaseModel):
    number: str
    on_time: bool = Field(description="true：按时履职，警铃解除；false：逾期履职，警铃已转为预警")
    state: State
    state_label: str
    done_at: datetime


@router.post(
    "/duties/complete", response_model=DutyDoneOut, summary="报送黄色警铃事项已履职",
    dependencies=[Depends(allow(PLATFORM))],
    description="按期限内完成的解除警铃；晚于期限完成的，警铃按逾期转为规则规定的预警（记录完成时刻）。",
    responses={404: {"description": "预警不存在"}, 409: {"description": "预警不是待履职的黄色警铃"}},
)
def duty_done(body: DutyDoneIn, actor: CurrentActor, session: SessionDep) -> DutyDoneOut:
    outcome = report_duty_done(session, actor=actor, source=body.source, external_id=body.external_id,
                               done_at=body.done_at, as_of=now_utc())  # fmt: skip
    result = outcome.result
    return DutyDoneOut(number=result.number, on_time=outcome.on_time, state=result.to_state,
                       state_label=result.to_state.label, done_at=body.done_at)  # fmt: skip


@router.post(
    "/cases/{number}/duty-report", response_model=CaseOut, tags=["预警案件"],
    summary="经办人报送按时履职（履职完成日期、依据及凭证附件）", dependencies=[Depends(allow(HANDLERS))],
    description="完成日期在履职期限内的，进入“解除警铃待审核”，经处室负责人审核后解除警铃；"
    "晚于期限的，警铃按逾期转为规则规定的预警（记录完成日期），不能解除。",
    responses={409: {"description": "版本已过期或不是待履职的黄色警铃"}, 422: {"description": "填写有误"}},
)  # fmt: skip
def duty_report(
    number: str,
    version: Annotated[int, Form(description="The case version the user saw (stale → 409)")],
    done_at: Annotated[date, Form(description="履职完成日期（YYYY-MM-DD），不晚于今天、不早于预警产生日期")],
    comment: Annotated[str, Form(min_length=1, max_length=2000, description="履职情况及依据")],
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    attachments: Annotated[list[UploadFile], File(description="履职凭证：PDF、JPG、PNG、OFD、DOCX、XLSX")] = [],  # noqa: B006
) -> CaseOut:
    now, limit = now_utc(), settings.upload_max_bytes
    # One byte past the limit is enough to refuse an oversized file without holding it all.
    files = [Upload(filename=f.filename or "", data=f.file.read(limit + 1), content_type=f.content_type or "")
             for f in attachments if f.filename]  # fmt: skip
    result = act_on_case(
        session, actor=actor, number=number, event=Event.COMPLETE_DUTY, version=version, as_of=now,
        comment=comment, done_at=done_at, uploads=files, files_dir=settings.files_dir, max_bytes=limit,
    )  # fmt: skip
    session.commit()
    return CaseOut.of_detail(get_case_detail(session, actor=actor, number=number, as_of=now, case_id=result.case_id))
