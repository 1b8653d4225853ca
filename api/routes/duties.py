"""The monitoring platform reports a yellow bell's duty done: POST /api/v1/duties/complete."""

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from models.enums import State
from workflows.cases.duties import report_duty_done
from workflows.core.clock import now_utc
from workflows.core.roles import PLATFORM

from ..deps import CurrentActor, SessionDep, allow

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
