"""Acting on cases by the numbers people know them by (workflows/cases/actions.py): the one
function behind the JSON API, the case page's forms and the batch page."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from models import Attachment, Case, Slip
from models.enums import Conclusion, Event, State
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.actions import act_on_case, act_on_cases
from workflows.cases.attachments import Upload
from workflows.core.errors import BatchRefused, InvalidInput, NotFound, OutOfScope

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def number_of(session, case_id: int) -> str:
    return session.get(Case, case_id).number


def test_li_na_files_a_verification_with_its_scans_in_one_step(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    result = act_on_case(
        session, actor=world.actors["li_na"], number=number_of(session, case_id),
        event=Event.SUBMIT_VERIFICATION, version=1, as_of=NOW, slip=verification_slip(),
        uploads=[Upload("核查报告.pdf", PDF)], files_dir=tmp_path, max_bytes=1 << 20,
    )  # fmt: skip
    assert (result.to_state, result.version) == (State.RED_LIGHT, 2)
    names = session.execute(sa.select(Attachment.filename).where(Attachment.slip_id == result.slip_id))
    assert names.scalars().all() == ["核查报告.pdf"]


def test_a_refused_scan_leaves_the_case_and_its_slips_as_they_were(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    slips_before = session.scalar(sa.select(sa.func.count()).select_from(Slip))
    with pytest.raises(InvalidInput) as refused:
        act_on_case(
            session, actor=world.actors["li_na"], number=number_of(session, case_id),
            event=Event.SUBMIT_VERIFICATION, version=1, as_of=NOW, slip=verification_slip(),
            uploads=[Upload("setup.exe", b"MZ\x90\x00")], files_dir=tmp_path, max_bytes=1 << 20,
        )  # fmt: skip
    assert refused.value.errors[0].field == "attachments"
    session.expire_all()
    assert (session.get(Case, case_id).state, session.get(Case, case_id).version) == (State.YELLOW_LIGHT, 1)
    assert session.scalar(sa.select(sa.func.count()).select_from(Slip)) == slips_before


def test_acting_reads_the_case_once_and_never_its_page(session, world, engine, backend):
    """The write decides on one indexed read: no timeline, slips or rule text is read first."""
    case_id = new_case(session, world, "yellow")
    number = number_of(session, case_id)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement.lower())

    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        act_on_case(session, actor=world.actors["li_na"], number=number, event=Event.START_VERIFY,
                    version=1, as_of=NOW)  # fmt: skip
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    reads_of_case = [s for s in statements if s.lstrip().startswith("select") and "warning_case" in s]
    # On PostgreSQL the read and the write go straight to psycopg (workflows/cases/transition_pg.py).
    assert len(reads_of_case) == (1 if backend == "sqlite" else 0)
    assert not any("from case_event" in s or "from slip" in s for s in statements)


def test_someone_elses_case_is_refused_as_such_and_a_missing_one_as_missing(session, world):
    foreign = new_case(session, world, "yellow", unit="anxian_budget")
    with pytest.raises(OutOfScope, match="不在您的管辖范围内"):
        act_on_case(session, actor=world.actors["li_na"], number=number_of(session, foreign),
                    event=Event.START_VERIFY, version=1, as_of=NOW)  # fmt: skip
    with pytest.raises(NotFound):
        act_on_case(session, actor=world.actors["li_na"], number="YJ-000000-000000",
                    event=Event.START_VERIFY, version=1, as_of=NOW)  # fmt: skip


def test_a_batch_names_cases_by_number_or_id_and_refuses_by_number(session, world):
    by_number, by_id = new_case(session, world, "yellow"), new_case(session, world, "yellow")
    foreign = new_case(session, world, "yellow", unit="anxian_budget")
    li_na = world.actors["li_na"]
    with pytest.raises(BatchRefused) as refused:
        act_on_cases(session, actor=li_na, event=Event.START_VERIFY, as_of=NOW,
                     cases=[(number_of(session, by_number), 1), (by_id, 1), (number_of(session, foreign), 1)])  # fmt: skip
    # Another section's case reads exactly as a missing one.
    assert [(i["number"], i["code"]) for i in refused.value.items] == [(number_of(session, foreign), "not_found")]
    results = act_on_cases(session, actor=li_na, event=Event.SUBMIT_VERIFICATION, as_of=NOW,
                           cases=[(number_of(session, by_number), 1), (by_id, 1)],
                           slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    assert {r.to_state for r in results} == {State.GREEN}
    assert len({r.slip_id for r in results}) == 1  # one slip for the batch
    with pytest.raises(BatchRefused) as stale:
        act_on_cases(session, actor=li_na, event=Event.START_VERIFY, as_of=NOW, cases=[(by_id, 1)])
    assert [(i["number"], i["code"]) for i in stale.value.items] == [(number_of(session, by_id), "stale_version")]
