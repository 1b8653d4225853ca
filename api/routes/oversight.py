"""Special inspections and interviews (专项督查、约谈) and the three-month streaks, as JSON."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Response, UploadFile
from pydantic import BaseModel, Field, computed_field

from forms.oversight_pdf import DOCUMENTS, notice_pdf, oversight_pdf
from models.oversight import OversightKind, OversightState
from workflows.cases.attachments import Upload
from workflows.core.clock import now_utc
from workflows.core.roles import CASE_READERS, OFFICE_READERS, OVERSIGHT_ACTORS
from workflows.oversight.attachments import (
    OversightAttachmentRow,
    add_oversight_attachments,
    list_oversight_attachments,
    open_oversight_attachment,
)
from workflows.oversight.cases import (
    actions_for,
    find_oversight,
    list_oversight,
    timeline,
    transition_oversight,
)
from workflows.oversight.slow_regions import ISSUERS, get_notice, issue_notice, slow_regions
from workflows.oversight.spot_checks import CHECKERS, DrawRow, draw_sample, get_draw, record_check
from workflows.oversight.streaks import streak_board

from ..deps import CurrentActor, SessionDep, SettingsDep, allow
from ..params import Bool, Count, Id, IsoDate
from .answers import Answer
from .slips import attachment_file

router = APIRouter(tags=["专项督查与约谈"])

READERS = [Depends(allow(OFFICE_READERS))]


class OversightOut(Answer):
    id: int
    number: str
    kind: OversightKind
    state: OversightState
    region_name: str
    region_code: str
    owner_name: str
    streak_start: date
    streak_end: date
    due_on: date | None
    opened_at: datetime
    closed_at: datetime | None
    version: int

    @computed_field
    @property
    def kind_label(self) -> str:
        return self.kind.label

    @computed_field
    @property
    def state_label(self) -> str:
        return self.state.label


class EventOut(Answer):
    seq: int
    event: str
    label: str
    from_state: OversightState | None
    to_state: OversightState
    actor_name: str
    at: datetime
    comment: str | None


class OversightDetailOut(Answer):
    id: int
    number: str
    kind: OversightKind
    state: OversightState
    region_name: str
    streak_start: date
    streak_end: date
    inspection_id: int | None
    due_on: date | None
    opened_at: datetime
    closed_at: datetime | None
    record: dict[str, Any]
    version: int
    allowed_events: list[str]
    timeline: list[EventOut]


class TransitionIn(BaseModel):
    event: str = Field(description="start, submit_report, reopen, close (inspection); arrange, "
                       "hold, record_commitments, follow_up, close (interview)")  # fmt: skip
    expected_version: Count = Field(description="The version read (stale → 409)")
    record: dict[str, Any] | None = Field(default=None, description="The step's record fields")
    comment: str | None = Field(default=None, max_length=2000)


class TransitionOut(Answer):
    id: int = Field(validation_alias="oversight_id")
    number: str
    event: str
    from_state: OversightState
    to_state: OversightState
    version: int


class StreakOut(Answer):
    region_code: str
    region_name: str
    month: date
    streak: int
    streak_start: date
    open_yellow: int
    open_red: int
    inspection_number: str | None


def oversight_in_scope(
    oversight_id: Annotated[Id, Path()], actor: CurrentActor, session: SessionDep
):
    """The case if the caller may see it (404 otherwise), checked before the body is read."""
    return find_oversight(session, actor=actor, oversight_id=oversight_id)


def row_out(row) -> OversightOut:
    return OversightOut.model_validate(row, from_attributes=True)


@router.get("/oversight", response_model=list[OversightOut], summary="专项督查与约谈清单",
            dependencies=READERS)  # fmt: skip
def oversight_list(
    actor: CurrentActor, session: SessionDep, kind: OversightKind | None = None,
    open_only: bool = False,
) -> list[OversightOut]:  # fmt: skip
    return [
        row_out(r) for r in list_oversight(session, actor=actor, kind=kind, open_only=open_only)
    ]


@router.get("/oversight/streaks", response_model=list[StreakOut], dependencies=[Depends(allow(CASE_READERS))],
            summary="连续计入月份达到2个月及以上的市县")  # fmt: skip
def streaks(actor: CurrentActor, session: SessionDep, month: IsoDate | None = None) -> list[StreakOut]:
    return [StreakOut.model_validate(r) for r in streak_board(session, actor=actor, month=month)]


class SlowRegionOut(Answer):
    region_id: int
    region_code: str
    region_name: str
    closed: int = Field(description="当月办结")
    on_time: int = Field(description="其中按期办结")
    overdue_open: int = Field(description="月末逾期未办结")
    rate: float = Field(description="按期处理率（0–1）")


class NoticeIn(BaseModel):
    month: IsoDate = Field(description="通报的月份（该月第一天，如 2026-11-01）；须已结束")


class NoticeOut(Answer):
    id: int
    number: str
    month: date
    threshold: float
    regions: list[dict[str, Any]]
    issued_at: datetime


@router.get("/oversight/slow-regions", response_model=list[SlowRegionOut], dependencies=READERS,
            summary="预警按期处理率低于设定值的市县")
def slow_region_list(actor: CurrentActor, session: SessionDep, month: IsoDate) -> list[SlowRegionOut]:
    return [SlowRegionOut.model_validate(r) for r in slow_regions(session, actor=actor, month=month.replace(day=1))]


@router.post("/oversight/notices", response_model=NoticeOut, status_code=201, summary="发布处理不及时市县的通报",
             dependencies=[Depends(allow(ISSUERS))])
def issue(body: NoticeIn, actor: CurrentActor, session: SessionDep) -> NoticeOut:
    notice = issue_notice(session, actor=actor, month=body.month.replace(day=1), as_of=now_utc())
    return NoticeOut.model_validate(notice)


@router.get("/oversight/notices/{notice_id}/pdf", summary="通报（PDF）", dependencies=READERS,
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def notice_document(notice_id: Id, actor: CurrentActor, session: SessionDep) -> Response:
    notice = get_notice(session, actor=actor, notice_id=notice_id)
    return Response(notice_pdf(session, notice), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{notice.number}.pdf"'})


@router.get("/oversight/{oversight_id}", response_model=OversightDetailOut, summary="督查约谈详情",
            dependencies=READERS)  # fmt: skip
def oversight_read(
    actor: CurrentActor, session: SessionDep, row: Annotated[object, Depends(oversight_in_scope)]
) -> OversightDetailOut:
    return OversightDetailOut.model_validate({
        **row._mapping, "record": row.record or {},
        "allowed_events": actions_for(session, actor=actor, row=row),
        "timeline": timeline(session, oversight_id=row.id),
    })  # fmt: skip


@router.post(
    "/oversight/{oversight_id}/transitions", response_model=TransitionOut, summary="办理督查约谈事项",
    dependencies=[Depends(allow(OVERSIGHT_ACTORS))],
    responses={409: {"description": "版本已过期或当前状态不能办理"}, 422: {"description": "填写有误"}},
)  # fmt: skip
def oversight_transition(
    body: TransitionIn, actor: CurrentActor, session: SessionDep,
    row: Annotated[object, Depends(oversight_in_scope)],
) -> TransitionOut:  # fmt: skip
    result = transition_oversight(
        session, oversight_id=row.id, event=body.event, actor=actor,
        expected_version=body.expected_version, record=body.record, comment=body.comment,
        as_of=now_utc(),
    )  # fmt: skip
    return TransitionOut.model_validate(result)


@router.get(
    "/oversight/{oversight_id}/documents/{doc}", summary="督查通知书、督查报告、约谈通知书、约谈记录（PDF）",
    dependencies=READERS, response_class=Response,
    responses={200: {"content": {"application/pdf": {}}},
               409: {"description": "尚未填写该公文所需内容"}},
)  # fmt: skip
def oversight_document(
    doc: Annotated[str, Path(description="、".join(f"{k} {v[1]}" for k, v in DOCUMENTS.items()))],
    session: SessionDep, row: Annotated[object, Depends(oversight_in_scope)],
) -> Response:
    title, content = oversight_pdf(session, row, doc)
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{row.number}-{doc}.pdf"'})


@router.get("/oversight/{oversight_id}/attachments", response_model=list[OversightAttachmentRow],
            summary="督查单、约谈记录的附件", dependencies=READERS)
def oversight_attachments(session: SessionDep, row: Annotated[object, Depends(oversight_in_scope)]):
    return list_oversight_attachments(session, oversight_id=row.id)


@router.post("/oversight/{oversight_id}/attachments", response_model=list[OversightAttachmentRow],
             status_code=201, summary="上传督查单、约谈记录的附件（全部成功或全部不保存）",
             dependencies=[Depends(allow(OVERSIGHT_ACTORS))])
def upload_oversight_attachments(
    attachments: Annotated[list[UploadFile], File(description="PDF、JPG、PNG、OFD、DOCX、XLSX")],
    actor: CurrentActor, session: SessionDep, settings: SettingsDep,
    row: Annotated[object, Depends(oversight_in_scope)],
):
    limit = settings.upload_max_bytes
    # One byte past the limit: enough to refuse an oversized file without holding it all.
    files = [Upload(filename=f.filename or "", data=f.file.read(limit + 1), content_type=f.content_type or "")
             for f in attachments]
    ids = set(add_oversight_attachments(session, actor=actor, oversight_id=row.id, files=files,
                                        files_dir=settings.files_dir, max_bytes=limit, as_of=now_utc()))
    return [a for a in list_oversight_attachments(session, oversight_id=row.id) if a.id in ids]


@router.get("/oversight/{oversight_id}/attachments/{attachment_id}", summary="下载督查约谈附件",
            dependencies=READERS, response_class=Response)
def download_oversight_attachment(
    attachment_id: Id, actor: CurrentActor, session: SessionDep, settings: SettingsDep,
    row: Annotated[object, Depends(oversight_in_scope)],
):
    attachment, path = open_oversight_attachment(session, actor=actor, oversight_id=row.id,
                                                 attachment_id=attachment_id, files_dir=settings.files_dir)
    return attachment_file(attachment, path)



class DrawIn(BaseModel):
    model_config = {"extra": "forbid"}
    sample_size: Count = Field(description="抽取的案件数（1–200）；不足时全部抽取")
    closed_from: IsoDate = Field(description="整改办结日期起（含）")
    closed_until: IsoDate = Field(description="整改办结日期止（含），不晚于昨天")
    seed: str | None = Field(None, max_length=64, description="随机种子；不填由系统生成。公开抽取时可由见证人提供")


class CheckIn(BaseModel):
    model_config = {"extra": "forbid"}
    version: Count = Field(description="看到的抽查记录版本")
    passed: Bool = Field(description="true 通过 / false 未通过（该预警重新整改）")
    findings: str = Field(description="抽查情况")


@router.post("/spot-checks", response_model=DrawRow, status_code=201, summary="抽查：随机抽取已整改的红灯预警",
             dependencies=[Depends(allow(CHECKERS))])
def spot_check_draw(body: DrawIn, actor: CurrentActor, session: SessionDep) -> DrawRow:
    return draw_sample(session, actor=actor, as_of=now_utc(), **body.model_dump())


@router.get("/spot-checks/{draw_id}", response_model=DrawRow, summary="抽查记录（含种子、总体和复现校验）",
            dependencies=READERS)
def spot_check_read(draw_id: Id, actor: CurrentActor, session: SessionDep) -> DrawRow:
    return get_draw(session, actor=actor, draw_id=draw_id)


@router.post("/spot-checks/checks/{check_id}", response_model=DrawRow, summary="登记抽查结果（未通过则重新整改）",
             dependencies=[Depends(allow(CHECKERS))])
def spot_check_result(check_id: Id, body: CheckIn, actor: CurrentActor, session: SessionDep) -> DrawRow:
    return record_check(session, actor=actor, check_id=check_id, as_of=now_utc(), **body.model_dump())
