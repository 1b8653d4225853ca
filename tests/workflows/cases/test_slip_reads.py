"""Reading slips: the slip with its versions, people and attachments, within the reader's scope."""

from datetime import timedelta
from decimal import Decimal

import pytest

from models import Case
from models.enums import Conclusion, Event, SlipKind, VerifyMethod
from tests.factories import NOW, new_case, rectification_slip, verification_slip
from workflows.cases.amend import amend_slip
from workflows.cases.attachments import store_attachment
from workflows.cases.slip_reads import get_slip, slips_of_case
from workflows.cases.transition import transition, transition_many
from workflows.core.errors import NotFound, OutOfScope, RoleNotAllowed

PDF = b"%PDF-1.4\n%%EOF\n"
LATER = NOW + timedelta(hours=2)


def act(session, world, case_id, event, who="li_na", slip=None, at=NOW):
    return transition(
        session, case_id=case_id, event=event, actor=world.actors[who],
        version=session.get(Case, case_id).version, as_of=at, slip=slip,
    )


def test_zhang_wei_reads_li_nas_slip_with_its_amendment_and_scan(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    slip_id = act(session, world, case_id, Event.SUBMIT_VERIFICATION, slip=verification_slip()).slip_id
    amend_slip(
        session, slip_id=slip_id, version=1, reason="更正涉及金额", actor=world.actors["wang_fang"],
        changes=verification_slip().model_copy(update={"amount_involved": Decimal("8000.00")}),
        as_of=LATER,
    )
    store_attachment(
        session, files_dir=tmp_path, slip_id=slip_id, actor=world.actors["li_na"],
        filename="核查报告.pdf", content_type="application/pdf", data=PDF, max_bytes=1024,
        as_of=LATER,
    )
    view = get_slip(session, actor=world.actors["zhang_wei"], slip_id=slip_id)
    assert view.number.startswith("HS-") and view.kind == SlipKind.VERIFICATION
    assert view.kind_label == "核实处理单"
    assert view.version == 2
    assert view.fields["amount_involved"] == Decimal("8000.00")
    assert view.conclusion == Conclusion.VIOLATION
    assert view.filed_by_name == "李娜" and view.filed_at == NOW and view.updated_at == LATER
    assert view.cases == [(case_id, session.get(Case, case_id).number)]
    assert [(v.version, v.author_name, v.reason) for v in view.versions] == [
        (1, "李娜", None), (2, "王芳", "更正涉及金额"),
    ]
    # Earlier versions read back typed like the current fields.
    assert view.versions[0].fields["amount_involved"] == Decimal("12345.67")
    assert view.versions[0].fields["methods"] == [VerifyMethod.PHONE, VerifyMethod.DOCUMENTS]
    assert [(a.filename, a.size, a.uploaded_by_name, a.added_in_version) for a in view.attachments] == [
        ("核查报告.pdf", len(PDF), "李娜", 2),
    ]
    assert list(view.shown_fields)[:3] == ["methods", "findings", "conclusion"]


def test_a_case_lists_its_verification_then_rectification_slips(session, world):
    case_id = new_case(session, world, "yellow")
    act(session, world, case_id, Event.SUBMIT_VERIFICATION, slip=verification_slip())
    act(session, world, case_id, Event.SUBMIT_RECTIFICATION, slip=rectification_slip(), at=LATER)
    number = session.get(Case, case_id).number
    slips = slips_of_case(session, actor=world.actors["liu_yang"], case_id=case_id)
    assert [s.kind for s in slips] == [SlipKind.VERIFICATION, SlipKind.RECTIFICATION]
    assert [s.number for s in slips_of_case(session, actor=world.actors["li_na"], number=number)] == [
        s.number for s in slips
    ]
    assert slips[1].fields["completed_on"].isoformat() == "2026-11-23"


def test_a_batch_slip_names_every_case_it_covers(session, world):
    ids = [new_case(session, world, "yellow") for _ in range(3)]
    result = transition_many(
        session, cases=[(i, session.get(Case, i).version) for i in ids],
        event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"], as_of=NOW,
        slip=verification_slip(Conclusion.NORMAL),
    )
    slip_id = result[0].slip_id
    view = get_slip(session, actor=world.actors["li_na"], slip_id=slip_id)
    assert sorted(c.id for c in view.cases) == sorted(ids)
    for case_id in ids:
        assert [s.id for s in slips_of_case(session, actor=world.actors["wang_fang"], case_id=case_id)] == [slip_id]


def test_slips_outside_ones_scope_cannot_be_read(session, world):
    case_id = new_case(session, world, "yellow")
    slip_id = act(session, world, case_id, Event.SUBMIT_VERIFICATION, slip=verification_slip()).slip_id
    for who in ("zhao_lei", "ningxian_boss", "chen_jie"):
        with pytest.raises(OutOfScope):
            get_slip(session, actor=world.actors[who], slip_id=slip_id)
        with pytest.raises(OutOfScope):
            slips_of_case(session, actor=world.actors[who], case_id=case_id)
    for who in ("sun_hao", "platform"):
        with pytest.raises(RoleNotAllowed):
            get_slip(session, actor=world.actors[who], slip_id=slip_id)
        with pytest.raises(RoleNotAllowed):
            slips_of_case(session, actor=world.actors[who], case_id=case_id)
    with pytest.raises(NotFound):
        get_slip(session, actor=world.actors["li_na"], slip_id=slip_id + 999)
    with pytest.raises(NotFound):
        slips_of_case(session, actor=world.actors["li_na"], number="YJ-209901-000001")


def test_a_case_without_slips_has_none(session, world):
    case_id = new_case(session, world, "yellow")
    assert slips_of_case(session, actor=world.actors["li_na"], case_id=case_id) == []


def test_printing_is_for_readers_and_for_the_slips_own_cases(session, world):
    from workflows.cases.slip_reads import check_printable

    case_id = new_case(session, world, "yellow")
    other_case = new_case(session, world, "yellow")
    slip_id = act(session, world, case_id, Event.SUBMIT_VERIFICATION, slip=verification_slip()).slip_id
    check_printable(session, actor=world.actors["zhang_wei"], slip_id=slip_id)
    check_printable(session, actor=world.actors["li_na"], slip_id=slip_id, case_id=case_id)
    with pytest.raises(NotFound):
        check_printable(session, actor=world.actors["li_na"], slip_id=slip_id, case_id=other_case)
    with pytest.raises(OutOfScope):
        check_printable(session, actor=world.actors["zhao_lei"], slip_id=slip_id)
