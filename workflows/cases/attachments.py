"""Attachments on slips (scanned documents): checked, stored once by content hash, read in scope.

Bytes live in the file store as `<files_dir>/<sha[:2]>/<sha>` (SHA-256 of the content), written
to a temporary file and moved into place, so a crash never leaves half a file and identical
content is kept once. The database row says which slip, which name, which version added it.
"""

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from models import Attachment, Case, CaseSlip, Region, Slip
from workflows.core.actors import Actor
from workflows.core.errors import FieldError, InvalidInput, NotFound, OutOfScope, RoleNotAllowed
from workflows.core.roles import CASE_ACTORS, CASE_BLIND

ALLOWED_UPLOADS = {".pdf", ".jpg", ".jpeg", ".png", ".ofd", ".docx", ".xlsx"}

# The content type we serve is decided by the checked type, never by what the browser claimed.
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".ofd": "application/ofd",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_ZIP = b"PK\x03\x04"
# The first bytes each allowed type must start with: a renamed .exe is refused.
SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".ofd": (_ZIP,),  # OFD (GB/T 33190) is a ZIP container
    ".docx": (_ZIP,),
    ".xlsx": (_ZIP,),
}

# Who may add attachments: the people who act on cases. Readers are everyone but these.
UPLOADERS = CASE_ACTORS
NON_READERS = CASE_BLIND

MAX_FILES_PER_UPLOAD = 20
_ALLOWED_WORDS = "PDF、JPG、PNG、OFD、DOCX、XLSX"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Upload:
    """One file as received: the name the user's computer gave it and its bytes."""

    filename: str
    data: bytes
    content_type: str = ""


def clean_filename(filename: str) -> str:
    """The name to show and to offer on download: no folders, no control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _extension(filename: str) -> str:
    name = clean_filename(filename)
    return os.path.splitext(name)[1].lower() if name else ""


def check_upload(*, filename: str, data: bytes, max_bytes: int, field: str = "attachments") -> None:
    """Refuse a file that is empty, too big, or not of an allowed type (by name and content)."""
    shown = clean_filename(filename) or "（无文件名）"
    ext = _extension(filename)
    if ext not in ALLOWED_UPLOADS:
        raise InvalidInput.single(
            field, "type_not_allowed", f"文件“{shown}”的类型不允许，只能上传 {_ALLOWED_WORDS}"
        )
    if not data:
        raise InvalidInput.single(field, "empty_file", f"文件“{shown}”是空文件")
    if len(data) > max_bytes:
        raise InvalidInput.single(
            field, "too_large", f"文件“{shown}”超过 {_size_words(max_bytes)} 上限"
        )
    if not any(data.startswith(sig) for sig in SIGNATURES[ext]):
        raise InvalidInput.single(
            field,
            "content_mismatch",
            f"文件“{shown}”的内容与扩展名 {ext[1:].upper()} 不符，只能上传 {_ALLOWED_WORDS}",
        )


def _size_words(max_bytes: int) -> str:
    mb = max_bytes / (1024 * 1024)
    if mb >= 1:
        return f"{mb:g} MB"
    return f"{max_bytes / 1024:g} KB" if max_bytes >= 1024 else f"{max_bytes} 字节"


def blob_path(files_dir: Path, sha256: str) -> Path:
    if not _SHA_RE.match(sha256):
        # The hash comes from our own table; anything else must never become a path.
        raise NotFound("附件不存在")
    return Path(files_dir) / sha256[:2] / sha256


def _write_blob(files_dir: Path, data: bytes) -> str:
    """Store the bytes under their SHA-256 (once); returns the hash."""
    sha = hashlib.sha256(data).hexdigest()
    target = blob_path(files_dir, sha)
    if target.exists() and target.stat().st_size == len(data):
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha


def write_blob(files_dir: Path, data: bytes) -> str:
    """Store checked bytes in the file store (once); returns their SHA-256. For other records'
    attachments (oversight slips), which keep their own rows."""
    return _write_blob(files_dir, data)


def content_type_of(filename: str) -> str:
    """The content type served for a checked file's name."""
    return CONTENT_TYPES[_extension(filename)]


def _slip_cases(session: Session, slip_id: int) -> list:
    return session.connection().execute(
        sa.select(Case.id, Case.org_unit_id, Region.path)
        .join(CaseSlip, CaseSlip.case_id == Case.id)
        .join(Region, Region.id == Case.region_id)
        .where(CaseSlip.slip_id == slip_id)
    ).all()


def check_slip_readable(session: Session, *, actor: Actor, slip_id: int) -> None:
    """A slip is readable by a case reader in scope of at least one of its cases."""
    if actor.role in NON_READERS:
        raise RoleNotAllowed("您的角色无权查看处理单")
    rows = _slip_cases(session, slip_id)
    if not any(actor.in_scope(region_path=r.path, org_unit_id=r.org_unit_id) for r in rows):
        raise OutOfScope("无权查看该处理单")


def _check_may_upload(session: Session, *, actor: Actor, slip_id: int) -> None:
    if actor.role in NON_READERS:
        # The administrator never acts on cases (separation of duties), whatever the region.
        raise RoleNotAllowed("您的角色无权上传处理单附件")
    rows = _slip_cases(session, slip_id)
    if not any(actor.in_scope(region_path=r.path, org_unit_id=r.org_unit_id) for r in rows):
        raise OutOfScope("无权为该处理单上传附件")
    if actor.role not in UPLOADERS:
        raise RoleNotAllowed("只有经办人或处室负责人可以上传附件")


def store_attachments(
    session: Session,
    *,
    files_dir: Path,
    slip_id: int,
    actor: Actor,
    files: list[Upload],
    max_bytes: int,
    as_of: datetime,
) -> list[int]:
    """Add files to a slip, all or none; returns the new attachment ids in the given order."""
    slip = session.get(Slip, slip_id)
    if slip is None:
        raise NotFound("处理单不存在")
    _check_may_upload(session, actor=actor, slip_id=slip_id)
    if not files:
        raise InvalidInput.single("attachments", "required", "请选择要上传的文件")
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise InvalidInput.single(
            "attachments", "too_many", f"一次最多上传 {MAX_FILES_PER_UPLOAD} 个文件"
        )
    # Check every file before writing any, and report every refusal at once.
    errors: list[FieldError] = []
    for upload in files:
        try:
            check_upload(filename=upload.filename, data=upload.data, max_bytes=max_bytes)
        except InvalidInput as refused:
            errors.extend(refused.errors)
    if errors:
        message = errors[0].message if len(errors) == 1 else "部分文件不能上传，未保存任何文件"
        raise InvalidInput(message, errors=errors)
    # Blobs first: if the transaction then fails, an unreferenced blob is harmless (and reused).
    rows = []
    for upload in files:
        sha = _write_blob(files_dir, upload.data)
        rows.append(
            {
                "slip_id": slip_id,
                "sha256": sha,
                "size": len(upload.data),
                "content_type": CONTENT_TYPES[_extension(upload.filename)],
                "filename": clean_filename(upload.filename),
                "uploaded_by_id": actor.user_id,
                "uploaded_at": as_of,
                "added_in_version": slip.version,
            }
        )
    table = Attachment.__table__
    connection = session.connection()
    return [
        connection.execute(sa.insert(table).values(**row).returning(table.c.id)).scalar_one()
        for row in rows
    ]


def store_attachment(
    session: Session,
    *,
    files_dir: Path,
    slip_id: int,
    actor: Actor,
    filename: str,
    content_type: str,
    data: bytes,
    max_bytes: int,
    as_of: datetime,
) -> int:
    """Add one file to a slip; returns the attachment id."""
    return store_attachments(
        session,
        files_dir=files_dir,
        slip_id=slip_id,
        actor=actor,
        files=[Upload(filename=filename, data=data, content_type=content_type)],
        max_bytes=max_bytes,
        as_of=as_of,
    )[0]


def open_attachment(
    session: Session, *, actor: Actor, attachment_id: int, files_dir: Path
) -> tuple[Attachment, Path]:
    """The attachment row and the path of its bytes, for a reader in scope of its slip."""
    attachment = session.get(Attachment, attachment_id)
    # Removed attachments stay readable: they belong to the slip's kept history.
    if attachment is None:
        raise NotFound("附件不存在")
    check_slip_readable(session, actor=actor, slip_id=attachment.slip_id)
    path = blob_path(files_dir, attachment.sha256)
    if not path.is_file():
        raise NotFound("附件文件缺失，请联系管理员")
    return attachment, path
