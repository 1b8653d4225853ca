"""Slips (处理单): list a case's slips, read one, amend it, attach scans, download, print."""

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field, computed_field, model_validator

from forms.pdf import slip_pdf
from models.enums import SignoffDecision, SlipKind
from workflows.cases.amend import amend_slip
from workflows.cases.attachments import Upload, open_attachment, store_attachments
from workflows.cases.slip_reads import (
    AttachmentView,
    SlipView,
    check_printable,
    get_slip,
    slips_of_case,
)
from workflows.cases.slips import SlipInput
from workflows.core.clock import now_utc
from workflows.core.roles import CASE_ACTORS, CASE_READERS

from ..deps import CurrentActor, SessionDep, SettingsDep, allow
from ..params import Count, Id
from .answers import Answer, JsonFields

router = APIRouter(tags=["处理单"])

READERS = [Depends(allow(CASE_READERS))]
WRITERS = [Depends(allow(CASE_ACTORS))]


class CaseRefOut(Answer):
    id: int
    number: str


class VersionOut(Answer):
    version: int
    fields: JsonFields
    author_name: str
    created_at: datetime
    reason: str | None
    pdf_url: str = Field("", description="This version as printed, with its own sign-offs")


class SignoffOut(Answer):
    """The supervisor's sign-off on one version of the slip for one case."""

    slip_version: int
    case_id: int
    case_number: str
    supervisor_name: str
    decision: SignoffDecision
    opinion: str
    signed_at: datetime
    voided_at: datetime | None = Field(description="Set when that version was amended after signing")
    void_reason: str | None

    @computed_field
    @property
    def decision_label(self) -> str:
        return self.decision.label


class AttachmentOut(Answer):
    id: int
    filename: str
    size: int
    content_type: str
    uploaded_at: datetime
    uploaded_by_name: str
    added_in_version: int

    @computed_field
    @property
    def url(self) -> str:
        return f"/api/v1/attachments/{self.id}"


class SlipOut(Answer):
    id: int
    number: str
    kind: SlipKind
    version: int
    fields: JsonFields
    filed_by_name: str
    filed_at: datetime
    updated_at: datetime
    cases: list[CaseRefOut]
    signoffs: list[SignoffOut]
    versions: list[VersionOut]
    attachments: list[AttachmentOut]

    @computed_field
    @property
    def kind_label(self) -> str:
        return self.kind.label

    @computed_field
    @property
    def pdf_url(self) -> str:
        return f"/api/v1/slips/{self.id}/pdf"

    @model_validator(mode="after")
    def _version_pdfs(self) -> "SlipOut":
        # Each version prints as it was, with its own sign-offs.
        for v in self.versions:
            v.pdf_url = f"/api/v1/slips/{self.id}/pdf?version={v.version}"
        return self


class AmendIn(BaseModel):
    version: Count = Field(description="The slip version being amended (stale → 409)")
    reason: str = Field(max_length=2000, description="Why it is amended (修改原因)")
    slip: SlipInput


class UploadedOut(BaseModel):
    attachments: list[AttachmentOut]


def _attachment_out(a: AttachmentView) -> AttachmentOut:
    return AttachmentOut.model_validate(a)


def _slip_out(view: SlipView) -> SlipOut:
    return SlipOut.model_validate(view)


@router.get("/cases/{number}/slips", response_model=list[SlipOut], summary="预警的处理单",
            dependencies=READERS)
def list_case_slips(number: str, actor: CurrentActor, session: SessionDep) -> list[SlipOut]:
    return [_slip_out(v) for v in slips_of_case(session, actor=actor, number=number)]


@router.get("/slips/{slip_id}", response_model=SlipOut, summary="处理单（含历次版本与附件）",
            dependencies=READERS)
def read_slip(slip_id: Id, actor: CurrentActor, session: SessionDep) -> SlipOut:
    return _slip_out(get_slip(session, actor=actor, slip_id=slip_id))


@router.post("/slips/{slip_id}/amend", response_model=SlipOut, summary="修改处理单（保留历史版本）",
             dependencies=WRITERS)
def amend(slip_id: Id, body: AmendIn, actor: CurrentActor, session: SessionDep) -> SlipOut:
    amend_slip(session, slip_id=slip_id, version=body.version, changes=body.slip,
               reason=body.reason, actor=actor, as_of=now_utc())
    return _slip_out(get_slip(session, actor=actor, slip_id=slip_id))


@router.post("/slips/{slip_id}/attachments", response_model=UploadedOut, status_code=201,
             summary="上传附件（可多个，全部成功或全部不保存）", dependencies=WRITERS)
def upload_attachments(
    slip_id: Id,
    attachments: Annotated[list[UploadFile], File(description="PDF、JPG、PNG、OFD、DOCX、XLSX")],
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
) -> UploadedOut:
    limit = settings.upload_max_bytes
    # Read one byte past the limit: enough to refuse an oversized file without holding it all.
    files = [Upload(filename=f.filename or "", data=f.file.read(limit + 1),
                    content_type=f.content_type or "") for f in attachments]
    ids = store_attachments(session, files_dir=settings.files_dir, slip_id=slip_id, actor=actor,
                            files=files, max_bytes=limit, as_of=now_utc())
    stored = {a.id: a for a in get_slip(session, actor=actor, slip_id=slip_id).attachments}
    return UploadedOut(attachments=[_attachment_out(stored[i]) for i in ids])


@router.get("/attachments/{attachment_id}", summary="下载附件", dependencies=READERS,
            response_class=FileResponse)
def download_attachment(
    attachment_id: Id, actor: CurrentActor, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    attachment, path = open_attachment(session, actor=actor, attachment_id=attachment_id,
                                       files_dir=settings.files_dir)
    return attachment_file(attachment, path)


def attachment_file(attachment, path) -> FileResponse:
    """A stored attachment as a download, for the API and the pages alike."""
    return FileResponse(path, media_type=attachment.content_type, headers={
        "Content-Disposition": content_disposition(attachment.filename),
        # Served as the type we checked, never guessed; never run as a page of ours.
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    })


@router.get("/slips/{slip_id}/pdf", summary="打印处理单（PDF，一页 A4）", dependencies=READERS,
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def print_slip(
    slip_id: Id, actor: CurrentActor, session: SessionDep, case_id: Id | None = None,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="版本（默认当前版本）")] = None,
) -> Response:
    number = check_printable(session, actor=actor, slip_id=slip_id, case_id=case_id,
                             version=version).number
    return Response(slip_pdf(session, slip_id, case_id=case_id, version=version),
                    media_type="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"{number}.pdf", "inline"),
                             "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, no-store"})


def content_disposition(filename: str, kind: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name (Chinese file names survive)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                         for c in filename) or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
