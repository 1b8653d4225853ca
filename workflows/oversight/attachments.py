"""Attachments on oversight slips: the scanned papers of an inspection (督查单) or an
interview record (约谈记录) — signed notices, minutes, rectification reports.

Checked like a warning slip's (type by name and content, size) and stored once by content
hash; whoever may act on the case (the owning province's supervision bureau or leadership)
adds them while it is open; whoever may read the case reads them.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from models import User
from models.oversight import OversightAttachment, OversightState
from workflows.cases.attachments import (
    MAX_FILES_PER_UPLOAD,
    Upload,
    blob_path,
    check_upload,
    clean_filename,
    content_type_of,
    write_blob,
)
from workflows.core.actors import Actor
from workflows.core.errors import FieldError, InvalidInput, InvalidState, NotFound, RoleNotAllowed
from workflows.oversight.cases import actions_for, find_oversight


@dataclass(frozen=True)
class OversightAttachmentRow:
    id: int
    filename: str
    size: int
    content_type: str
    uploaded_by_name: str
    uploaded_at: datetime


def add_oversight_attachments(
    session: Session, *, actor: Actor, oversight_id: int, files: list[Upload], files_dir: Path,
    max_bytes: int, as_of: datetime,
) -> list[int]:
    """Add files to an open oversight case, all or none; returns the new ids."""
    row = find_oversight(session, actor=actor, oversight_id=oversight_id)
    if not files:
        raise InvalidInput.single("attachments", "required", "请选择要上传的文件")
    if row.state == OversightState.CLOSED:
        raise InvalidState(f"{row.number} 已办结，不能再添加附件")
    if not actions_for(session, actor=actor, row=row):
        raise RoleNotAllowed(f"您不能为 {row.number} 添加附件")
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise InvalidInput.single("attachments", "too_many", f"一次最多上传 {MAX_FILES_PER_UPLOAD} 个文件")
    errors: list[FieldError] = []
    for upload in files:
        try:
            check_upload(filename=upload.filename, data=upload.data, max_bytes=max_bytes)
        except InvalidInput as refused:
            errors.extend(refused.errors)
    if errors:
        raise InvalidInput(errors[0].message if len(errors) == 1 else "部分文件不能上传，未保存任何文件",
                           errors=errors)
    ids = []
    for upload in files:
        attachment = OversightAttachment(
            oversight_id=row.id, sha256=write_blob(files_dir, upload.data), size=len(upload.data),
            content_type=content_type_of(upload.filename), filename=clean_filename(upload.filename),
            uploaded_by_id=actor.user_id, uploaded_at=as_of, added_in_version=row.version,
        )
        session.add(attachment)
        session.flush()
        ids.append(attachment.id)
    return ids


def list_oversight_attachments(session: Session, *, oversight_id: int) -> list[OversightAttachmentRow]:
    rows = session.exec(
        select(OversightAttachment, User.full_name)
        .join(User, User.id == OversightAttachment.uploaded_by_id)
        .where(OversightAttachment.oversight_id == oversight_id)
        .order_by(OversightAttachment.id)
    ).all()
    return [OversightAttachmentRow(a.id, a.filename, a.size, a.content_type, name, a.uploaded_at)
            for a, name in rows]


def open_oversight_attachment(
    session: Session, *, actor: Actor, oversight_id: int, attachment_id: int, files_dir: Path
) -> tuple[OversightAttachment, Path]:
    find_oversight(session, actor=actor, oversight_id=oversight_id)
    attachment = session.exec(select(OversightAttachment).where(
        OversightAttachment.id == attachment_id, OversightAttachment.oversight_id == oversight_id)).first()
    if attachment is None:
        raise NotFound("附件不存在")
    path = blob_path(files_dir, attachment.sha256)
    if not path.is_file():
        raise NotFound("附件文件缺失，请联系管理员")
    return attachment, path


def count_attachments(session: Session, oversight_id: int) -> int:
    return session.exec(select(sa.func.count()).select_from(OversightAttachment)
                        .where(OversightAttachment.oversight_id == oversight_id)).one()
