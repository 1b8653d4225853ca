"""Acting on cases as users name them: the one way every door (the JSON API, the case page's
forms, the batch page) applies an event, with its slip, comment and uploaded files, all or
nothing. The write reads only what transition() needs to decide (one indexed read per case),
never the case page's detail."""

import functools
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from models.enums import Event
from models.settings import get_settings
from workflows.cases import transition_pg
from workflows.cases.attachments import Upload, store_attachments
from workflows.cases.duties import report_duty_done_by_person
from workflows.cases.plan import CONTEXT, CONTEXT_BY_NUMBER, TransitionResult, parse_event
from workflows.cases.queries import check_visible
from workflows.cases.slips import SlipInput
from workflows.cases.transition import transition, transition_many
from workflows.core.actors import Actor
from workflows.core.errors import BatchRefused, DomainError, InvalidInput, NotFound, OutOfScope

CASES = CONTEXT.selected_columns


def act_on_case(
    session: Session,
    *,
    actor: Actor,
    number: str,
    event: Event | str,
    version: int,
    as_of: datetime,
    slip: SlipInput | None = None,
    comment: str | None = None,
    assignee_id: int | None = None,
    uploads: Sequence[Upload] = (),
    files_dir: Path | None = None,
    max_bytes: int | None = None,
    done_at: date | None = None,
) -> TransitionResult:
    """One event on the case with this number, its slip's attachments with it; a bell's duty
    reported done (complete_duty) with the day it was done and the evidence (workflows/cases/duties.py).

    NotFound when there is no such case, OutOfScope (403 for an action) when it is not the
    actor's; then transition()'s refusals. Nothing is written unless all of it is."""
    number = number.strip()
    if parse_event(event) == Event.COMPLETE_DUTY:
        if slip is not None:
            raise InvalidInput.single("slip", "not_expected", "此操作不需要处理单")
        return report_duty_done_by_person(
            session, actor=actor, number=number, version=version, done_at=done_at,
            comment=comment, as_of=as_of, uploads=uploads, files_dir=files_dir, max_bytes=max_bytes,
        ).result  # fmt: skip
    if done_at is not None:
        raise InvalidInput.single("done_at", "not_expected", "只有报送按时履职时填写履职完成日期（done_at）")
    driver = transition_pg.driver(session)
    if driver is not None:
        context = transition_pg.load_by_number(driver, number)
    else:
        context = session.connection().execute(CONTEXT_BY_NUMBER, {"number": number}).one_or_none()
    check_visible(actor, number=number, found=context)
    act = functools.partial(
        transition, session, case_id=context.id, event=event, actor=actor, version=version,
        as_of=as_of, slip=slip, comment=comment, assignee_id=assignee_id, context=context,
    )  # fmt: skip
    if not uploads:
        return act()  # refused before it writes: no savepoint needed (two round trips saved)
    with session.begin_nested():
        result = act()
        _attach(session, actor, [result], uploads, files_dir, max_bytes, as_of)
    return result


def act_on_cases(
    session: Session,
    *,
    actor: Actor,
    cases: Sequence[tuple[str | int, int]],
    event: Event | str,
    as_of: datetime,
    slip: SlipInput | None = None,
    comment: str | None = None,
    assignee_id: int | None = None,
    uploads: Sequence[Upload] = (),
    files_dir: Path | None = None,
    max_bytes: int | None = None,
) -> list[TransitionResult]:
    """One event (and one slip, 批量认定/批量整改) over many cases, each named by its number (as
    users know it) or its id (as the batch page's boxes carry it) with the version seen: all
    or none. Every refusal, an unknown or foreign case included, is reported by number in one
    BatchRefused (a foreign case reads exactly as a missing one: no existence leak)."""
    numbers = [str(ref).strip() for ref, _ in cases if isinstance(ref, str)]
    ids = [ref for ref, _ in cases if isinstance(ref, int)]
    contexts = {}
    if numbers or ids:
        found = session.connection().execute(
            CONTEXT.where(sa.or_(CASES.number.in_(numbers), CASES.id.in_(ids)))
        ).all()
        contexts = {c.number: c for c in found} | {c.id: c for c in found}
    picked: list[tuple[int, int]] = []
    refused: list[dict] = []
    for ref, version in cases:
        key = ref.strip() if isinstance(ref, str) else ref
        try:
            context = contexts.get(key)
            check_visible(actor, number=str(key), found=context)
            picked.append((context.id, version))
        except (NotFound, OutOfScope):
            refused.append({"number": str(key), **NotFound(f"预警 {key} 不存在").as_dict()})
        except DomainError as error:
            refused.append({"number": str(key), **error.as_dict()})
    if refused:
        raise BatchRefused(f"{len(refused)} 个案件不能办理，全部未提交", items=refused)
    by_id = {c.id: c for c in contexts.values()}
    try:
        with session.begin_nested():  # the batch and its attachments: all or none
            results = transition_many(
                session, cases=picked, event=event, actor=actor, as_of=as_of, slip=slip,
                comment=comment, assignee_id=assignee_id, contexts=by_id,
            )  # fmt: skip
            _attach(session, actor, results[:1], uploads, files_dir, max_bytes, as_of)
    except BatchRefused as error:
        items = [{"number": by_id[i["case_id"]].number, **i} for i in error.items]
        raise BatchRefused(error.message, items=items) from None
    return results


def _attach(session, actor, results, uploads, files_dir, max_bytes, as_of) -> None:
    """The uploaded files go on the slip the step filed (one slip for a whole batch)."""
    if not uploads:
        return
    slip_id = results[0].slip_id if results else None
    if slip_id is None:
        raise InvalidInput.single("attachments", "not_expected", "此操作不需要附件")
    settings = get_settings()
    store_attachments(
        session, files_dir=files_dir or settings.files_dir, slip_id=slip_id, actor=actor,
        files=list(uploads), max_bytes=max_bytes or settings.upload_max_bytes, as_of=as_of,
    )  # fmt: skip
