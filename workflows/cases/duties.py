"""A yellow bell's duty reported done (Changchun art. 19, 22): it clears the bell only when
done on time.

Two reporters, one rule (workflows/cases/duty_rules.py). The monitoring platform's account
reports the moment the duty was done (`done_at`); a person (the case's handler) reports the
day it was done and the evidence: a note, optionally scanned files. Done on or before the
bell's deadline, the report is an accepted 报送按时履职: the platform's data clears the bell,
a person's word waits for the supervisor's sign-off (lifecycle Branch.REPORTER). Done later,
the bell converts into the light its rule names exactly as if the deadline had passed — the
sweep's event, with done_at in its data — never "cleared on time".

Evidence files are checked and stored like a slip's attachments (workflows/cases/attachments.py:
type by name and content, size, once by content hash); a report has no slip, so the event row
that recorded the report names them (data "evidence") and they are read through the case.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent, Region
from models.enums import Event, State
from models.settings import get_settings
from workflows.cases.attachments import (
    MAX_FILES_PER_UPLOAD,
    Upload,
    blob_path,
    check_upload,
    clean_filename,
    content_type_of,
    write_blob,
)
from workflows.cases.duty_rules import DATA_REPORTERS, check_done_on, done_in_time
from workflows.cases.lifecycle import CASE_MACHINE
from workflows.cases.plan import who
from workflows.cases.queries import check_visible
from workflows.cases.transition import TransitionResult, transition
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, local_date
from workflows.core.errors import FieldError, InvalidInput, InvalidState, NotFound, RoleNotAllowed

# Kept for callers that name the platform's reporters by this module.
REPORTERS = DATA_REPORTERS

_CASE = sa.select(
    Case.id, Case.number, Case.state, Case.version, Case.due_on, Case.raised_at, Case.org_unit_id,
    Region.path.label("region_path"),
).join(Region, Region.id == Case.region_id)  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """One evidence file of a duty report, as its event row names it."""

    sha256: str
    filename: str
    size: int
    content_type: str


@dataclass(frozen=True)
class DutyOutcome:
    on_time: bool
    result: TransitionResult


def report_duty_done(
    session: Session, *, actor: Actor, source: str, external_id: str, done_at: datetime,
    as_of: datetime,
) -> DutyOutcome:  # fmt: skip
    """The platform says the duty of warning (source, external_id) was done at `done_at`."""
    if actor.role not in DATA_REPORTERS:
        raise RoleNotAllowed(f"监控平台接口报送履职完成情况，您的角色是{actor.role.label}；经办人请在案件页报送")
    if done_at.tzinfo is None:
        raise InvalidInput.single("done_at", "naive", "done_at 须带时区，例如 2026-11-27T10:00:00+08:00")
    if done_at > as_of:
        raise InvalidInput.single("done_at", "future", "履职完成时间（done_at）不能晚于当前时间")
    case = session.connection().execute(
        _CASE.where(Case.source == source, Case.external_id == external_id)
    ).one_or_none()
    if case is None:
        raise NotFound("预警不存在")
    if case.state != State.YELLOW_BELL:
        raise InvalidState(f"案件 {case.number} 当前状态为“{State(case.state).label}”，不是待履职的黄色警铃")
    local = done_at.astimezone(LOCAL_TZ)
    check_done_on(local.date(), raised_on=local_date(case.raised_at), today=local_date(as_of))
    moment = f"{local:%Y-%m-%d %H:%M}"
    # The local moment: its first ten characters are the day the deadline is compared with.
    data = {"done_at": local.isoformat()}
    if done_in_time(local.date(), case.due_on):
        comment = f"监控平台报送：履职完成于 {moment}（期限 {case.due_on}）"
        return _on_time(session, case, actor, comment, data, as_of)
    comment = f"监控平台报送：履职完成于 {moment}，晚于期限 {case.due_on}，按逾期未履职转为预警"
    return _late(session, case, comment, data, as_of)


def report_duty_done_by_person(
    session: Session, *, actor: Actor, number: str, version: int, done_at: date | None,
    comment: str | None, as_of: datetime, uploads: Sequence[Upload] = (),
    files_dir: Path | None = None, max_bytes: int | None = None,
) -> DutyOutcome:  # fmt: skip
    """A handler says the duty of case `number` was done on `done_at`, on the evidence of
    `comment` and `uploads`. Every refusal comes before anything is written."""
    case = session.connection().execute(_CASE.where(Case.number == number.strip())).one_or_none()
    check_visible(actor, number=number, found=case)
    state = State(case.state)
    # Scope, version, state and role: the lifecycle's own checks, before the duty's (a late
    # report converts the bell by the system's step, which a person may not fire).
    machine.check(
        CASE_MACHINE, who=who(case), state=state, event=Event.COMPLETE_DUTY,
        event_label=Event.COMPLETE_DUTY.label, state_label=state.label, actor=actor,
        version=version, current=case.version,
        in_scope=actor.in_scope(region_path=case.region_path, org_unit_id=case.org_unit_id),
    )  # fmt: skip
    if actor.role in DATA_REPORTERS:
        raise RoleNotAllowed("监控平台请通过 POST /api/v1/duties/complete 报送履职完成时刻")
    errors: list[FieldError] = []
    try:
        check_done_on(done_at, raised_on=local_date(case.raised_at), today=local_date(as_of))
    except InvalidInput as refused:
        errors += refused.errors
    note = (comment or "").strip()
    if not note:
        errors.append(FieldError("comment", "required", "请填写履职情况及依据（comment）"))
    errors += _check_files(uploads, max_bytes or get_settings().upload_max_bytes)
    if errors:
        message = errors[0].message if len(errors) == 1 else "履职报送填写不完整或有误，请按提示修改"
        raise InvalidInput(message, errors=errors)
    data: dict = {"done_at": done_at.isoformat()}
    if uploads:
        data["evidence"] = _store_files(uploads, files_dir or get_settings().files_dir)
    if done_in_time(done_at, case.due_on):
        return _on_time(session, case, actor, note, data, as_of)
    data["reported_by_id"] = actor.user_id
    words = (f"{actor.name or actor.role.label}报送：履职完成于 {done_at}，晚于期限 {case.due_on}，"
             f"按逾期未履职转为预警。履职情况：{note}")  # fmt: skip
    return _late(session, case, words, data, as_of)


def _on_time(session, case, actor, comment, data, as_of) -> DutyOutcome:
    result = transition(
        session, case_id=case.id, event=Event.COMPLETE_DUTY, actor=actor, version=case.version,
        as_of=as_of, comment=comment, data=data,
    )  # fmt: skip
    return DutyOutcome(True, result)


def _late(session, case, comment, data, as_of) -> DutyOutcome:
    result = transition(
        session, case_id=case.id, event=Event.BELL_DEADLINE_PASSED, actor=Actor.system(),
        version=case.version, as_of=as_of, comment=comment, data=data,
    )  # fmt: skip
    return DutyOutcome(False, result)


def _check_files(uploads: Sequence[Upload], max_bytes: int) -> list[FieldError]:
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        return [FieldError("attachments", "too_many", f"一次最多上传 {MAX_FILES_PER_UPLOAD} 个文件")]
    errors: list[FieldError] = []
    for upload in uploads:
        try:
            check_upload(filename=upload.filename, data=upload.data, max_bytes=max_bytes)
        except InvalidInput as refused:
            errors += refused.errors
    return errors


def _store_files(uploads: Sequence[Upload], files_dir: Path) -> list[dict]:
    """The checked files into the file store; what the event row says of each."""
    return [
        {"sha256": write_blob(files_dir, upload.data), "filename": clean_filename(upload.filename),
         "size": len(upload.data), "content_type": content_type_of(upload.filename)}
        for upload in uploads
    ]  # fmt: skip


def open_duty_evidence(
    session: Session, *, actor: Actor, number: str, sha256: str, files_dir: Path
) -> tuple[Evidence, Path]:
    """One evidence file of the case's duty reports (what its event says of it, and the path
    of its bytes), for a reader who may see the case."""
    case = session.connection().execute(_CASE.where(Case.number == number.strip())).one_or_none()
    check_visible(actor, number=number, found=case)
    rows = session.connection().execute(
        sa.select(CaseEvent.data).where(
            CaseEvent.case_id == case.id,
            CaseEvent.event.in_([Event.COMPLETE_DUTY, Event.BELL_DEADLINE_PASSED]),
        )
    ).scalars()
    for data in rows:
        for item in (data or {}).get("evidence", []):
            if item.get("sha256") == sha256:
                path = blob_path(files_dir, sha256)
                if not path.is_file():
                    raise NotFound("附件文件缺失，请联系管理员")
                return Evidence(**{k: item[k] for k in ("sha256", "filename", "size", "content_type")}), path
    raise NotFound("附件不存在")
