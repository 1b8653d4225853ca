"""A signature covers exactly what was signed: sign-offs per (slip version, case), amending a
signed slip voids its sign-off and sends the case back to review, every version prints with
its own decision."""

import subprocess
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms.pdf import _load, slip_pdf
from models import Case, CaseEvent, Notification
from models.enums import AmountBasis, Event, Resolution, SignoffDecision, State
from models.notifications import NotificationKind
from tests.factories import NOW, new_case, rectification_slip
from workflows.cases.amend import REREVIEW, amend_slip, amended_in_review
from workflows.cases.queries import review_queue
from workflows.cases.slip_reads import get_slip
from workflows.cases.transition import transition, transition_many
from workflows.core.errors import DomainError

LATER = NOW + timedelta(hours=2)


def act(session, world, case_id, event, who, at=NOW, **kw):
    return transition(
        session, case_id=case_id, event=event, actor=world.actors[who],
        version=session.get(Case, case_id).version, as_of=at, **kw,
    )  # fmt: skip


def rectified_and_approved(session, world):
    """Li Na rectifies an Anxian red light, Zhang Wei approves: the case is green."""
    case_id = new_case(session, world, "red")
    slip_id = act(session, world, case_id, Event.SUBMIT_RECTIFICATION, "li_na",
                  slip=rectification_slip()).slip_id  # fmt: skip
    act(session, world, case_id, Event.APPROVE_RECTIFICATION, "zhang_wei", comment="整改到位")
    return case_id, slip_id


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "slip.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout.replace("\n", "")


def one_recovered(slip_id, basis=AmountBasis.PER_CASE):
    return rectification_slip(basis).model_copy(update={"amount_recovered": Decimal("1.00")})


def test_amending_an_approved_slip_voids_zhang_weis_signature_and_reopens_review(
    session, world, tmp_path
):
    # The demo's YJ-202611-000145: 收回金额 changed to 1.00 after approval printed beside "同意".
    case_id, slip_id = rectified_and_approved(session, world)
    assert session.get(Case, case_id).state == State.GREEN

    new_version = amend_slip(
        session, slip_id=slip_id, version=1, changes=one_recovered(slip_id), reason="收回金额录入有误",
        actor=world.actors["li_na"], as_of=LATER,
    )  # fmt: skip

    assert new_version == 2
    case = session.get(Case, case_id)
    session.refresh(case)
    assert (case.state, case.resolution, case.closed_at) == (State.RECTIFICATION_REVIEW, None, None)
    assert case.due_on is not None
    last = session.execute(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())
    ).scalars().first()
    assert last.event == Event.SLIP_AMENDED and last.comment.startswith(REREVIEW)
    view = get_slip(session, actor=world.actors["zhang_wei"], slip_id=slip_id)
    assert view.signoff(case_id=case_id) is None  # version 2 is not signed
    old = view.signoff(case_id=case_id, version=1)
    assert old.decision == SignoffDecision.APPROVED and old.voided_at == LATER
    # The supervisor's queue has it, marked as changed, and his inbox says so.
    queue = review_queue(session, actor=world.actors["zhang_wei"], as_of=LATER)
    assert case_id in [r.id for r in queue]
    assert amended_in_review(session, case_ids=[case_id]) == {case_id}
    inbox = session.execute(
        sa.select(Notification.subject).where(
            Notification.user_id == world.users["zhang_wei"],
            Notification.kind == NotificationKind.REVIEW_REQUEST,
        )
    ).scalars().all()
    assert any(REREVIEW in s for s in inbox)

    # Version 2 prints without anyone's "同意"; version 1 prints as signed, marked 已作废.
    current = pdf_text(slip_pdf(session, slip_id), tmp_path)
    assert "同意" not in current and "张伟" not in current and "1.00" in current
    first = pdf_text(slip_pdf(session, slip_id, version=1), tmp_path)
    assert "已作废" in first and "同意。整改到位" in first and "张伟" in first
    assert "12,345.67" in first and "收回金额录入有误" in first

    # Zhang Wei signs version 2: it is his decision on that version only.
    act(session, world, case_id, Event.APPROVE_RECTIFICATION, "zhang_wei", at=LATER,
        comment="已核对新凭证")  # fmt: skip
    view = get_slip(session, actor=world.actors["zhang_wei"], slip_id=slip_id)
    assert view.signoff(case_id=case_id).opinion == "同意。已核对新凭证"
    assert view.signoff(case_id=case_id, version=1).opinion == "同意。整改到位"
    session.refresh(case)
    assert (case.state, case.resolution) == (State.GREEN, Resolution.RECTIFIED)


def test_amending_while_in_review_marks_the_review_as_changed(session, world):
    case_id = new_case(session, world, "red")
    slip_id = act(session, world, case_id, Event.SUBMIT_RECTIFICATION, "li_na",
                  slip=rectification_slip()).slip_id  # fmt: skip
    assert amended_in_review(session, case_ids=[case_id]) == set()
    amend_slip(session, slip_id=slip_id, version=1, changes=one_recovered(slip_id),
               reason="更正收回金额", actor=world.actors["li_na"], as_of=LATER)  # fmt: skip
    case = session.get(Case, case_id)
    session.refresh(case)
    assert case.state == State.RECTIFICATION_REVIEW
    assert amended_in_review(session, case_ids=[case_id]) == {case_id}


def test_a_batch_slip_shows_each_cases_own_decision(session, world, tmp_path):
    # The demo's ZG-202612-000015: A sent back, B approved, and A showed "同意" too.
    a, b = new_case(session, world, "red"), new_case(session, world, "red")
    slip_id = transition_many(
        session, cases=[(a, session.get(Case, a).version), (b, session.get(Case, b).version)],
        event=Event.SUBMIT_RECTIFICATION, actor=world.actors["li_na"], as_of=NOW,
        slip=rectification_slip(AmountBasis.PER_CASE),
    )[0].slip_id  # fmt: skip
    act(session, world, a, Event.REJECT_RECTIFICATION, "zhang_wei", comment="凭证不全")
    act(session, world, b, Event.APPROVE_RECTIFICATION, "zhang_wei")

    view = get_slip(session, actor=world.actors["zhang_wei"], slip_id=slip_id)
    assert view.signoff(case_id=a).decision == SignoffDecision.SENT_BACK
    assert view.signoff(case_id=b).decision == SignoffDecision.APPROVED
    text_a = pdf_text(slip_pdf(session, slip_id, case_id=a), tmp_path)
    assert "退回整改：凭证不全" in text_a and "同意" not in text_a
    text_b = pdf_text(slip_pdf(session, slip_id, case_id=b), tmp_path)
    assert "同意。" in text_b and "退回" not in text_b
    both = pdf_text(slip_pdf(session, slip_id), tmp_path)
    assert "退回（张伟）" in both and "同意（张伟）" in both and "各预警分别审核" in both


def test_amending_a_batch_slip_reopens_only_the_approved_case(session, world):
    a, b = new_case(session, world, "red"), new_case(session, world, "red")
    slip_id = transition_many(
        session, cases=[(a, session.get(Case, a).version), (b, session.get(Case, b).version)],
        event=Event.SUBMIT_RECTIFICATION, actor=world.actors["li_na"], as_of=NOW,
        slip=rectification_slip(AmountBasis.PER_CASE),
    )[0].slip_id  # fmt: skip
    act(session, world, a, Event.REJECT_RECTIFICATION, "zhang_wei", comment="凭证不全")
    act(session, world, b, Event.APPROVE_RECTIFICATION, "zhang_wei")
    amend_slip(session, slip_id=slip_id, version=1, changes=one_recovered(slip_id),
               reason="补正", actor=world.actors["li_na"], as_of=LATER)  # fmt: skip
    for case_id in (a, b):
        session.refresh(session.get(Case, case_id))
    assert session.get(Case, a).state == State.RECTIFYING
    assert session.get(Case, b).state == State.RECTIFICATION_REVIEW


# --- the property -------------------------------------------------------------------------

STEPS = st.lists(
    st.tuples(st.sampled_from(["amend", "approve", "reject", "resubmit"]), st.sampled_from([0, 1])),
    max_size=10,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_printed_version_shows_the_decision_made_on_it_for_that_case(session, world, steps):
    """Whatever sequence of amendments, sign-offs and new slips on a two-case batch slip, the
    sheet printed for each (version, case) carries exactly the decision given on it."""
    savepoint = session.begin_nested()
    try:
        cases = [new_case(session, world, "red"), new_case(session, world, "red")]
        slip_id = transition_many(
            session, cases=[(c, session.get(Case, c).version) for c in cases],
            event=Event.SUBMIT_RECTIFICATION, actor=world.actors["li_na"], as_of=NOW,
            slip=rectification_slip(AmountBasis.PER_CASE),
        )[0].slip_id  # fmt: skip
        slips = {slip_id}
        decided: dict[tuple[int, int, int], str] = {}  # (slip, version, case) → opinion
        versions = {slip_id: 1}
        latest = {c: slip_id for c in cases}
        at = NOW
        for n, (step, which) in enumerate(steps):
            at += timedelta(minutes=1)
            case_id = cases[which]
            case = session.get(Case, case_id)
            session.refresh(case)
            target = latest[case_id]
            if step == "amend":
                try:
                    with session.begin_nested():
                        versions[target] = amend_slip(
                            session, slip_id=target, version=versions[target],
                            changes=rectification_slip(AmountBasis.PER_CASE).model_copy(update={"measures_detail": f"第{n}次修改"}),
                            reason=f"修改{n}", actor=world.actors["li_na"], as_of=at,
                        )  # fmt: skip
                except DomainError:
                    pass
            elif step in ("approve", "reject") and case.state == State.RECTIFICATION_REVIEW:
                event = Event.APPROVE_RECTIFICATION if step == "approve" else Event.REJECT_RECTIFICATION
                act(session, world, case_id, event, "zhang_wei", at=at, comment=f"意见{n}")
                opinion = f"同意。意见{n}" if step == "approve" else f"退回整改：意见{n}"
                decided[(target, versions[target], case_id)] = opinion
            elif step == "resubmit" and case.state == State.RECTIFYING:
                new = act(session, world, case_id, Event.SUBMIT_RECTIFICATION, "li_na", at=at,
                          slip=rectification_slip()).slip_id  # fmt: skip
                slips.add(new)
                versions[new] = 1
                latest[case_id] = new
        for sid in slips:
            for version in range(1, versions[sid] + 1):
                for case_id in cases:
                    covered = session.execute(
                        sa.text("SELECT 1 FROM case_slip WHERE slip_id = :s AND case_id = :c"),
                        {"s": sid, "c": case_id},
                    ).first()
                    if not covered:
                        continue
                    sheet = _load(session, sid, case_id, version)
                    assert sheet.supervisor["opinion"] == decided.get((sid, version, case_id), "")
                    assert (sheet.void is not None) == (version < versions[sid])
    finally:
        savepoint.rollback()


# --- 重新核实 -----------------------------------------------------------------------------


def test_a_wrong_violation_is_verified_again_on_a_new_slip_and_the_first_stays(session, world):
    from models.enums import Conclusion
    from tests.factories import verification_slip

    case_id = new_case(session, world, "yellow")
    first = act(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na",
                slip=verification_slip(Conclusion.VIOLATION)).slip_id  # fmt: skip
    # The amend page cannot change the conclusion; the handler asks to verify again.
    asked = act(session, world, case_id, Event.REQUEST_REVERIFY, "li_na", at=LATER,
                comment="补充材料表明用途与批复一致")  # fmt: skip
    assert asked.to_state == State.REVERIFY_REVIEW
    assert case_id in [r.id for r in review_queue(session, actor=world.actors["zhang_wei"], as_of=LATER)]
    approved = act(session, world, case_id, Event.APPROVE_REVERIFY, "zhang_wei", at=LATER)
    assert approved.to_state == State.VERIFYING
    second = act(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na", at=LATER,
                 slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    assert second.to_state == State.GREEN and second.slip_id != first
    slips = [s.conclusion for s in __import__("workflows.cases.slip_reads", fromlist=["x"])
             .slips_of_case(session, actor=world.actors["zhang_wei"], case_id=case_id)]
    assert slips == [Conclusion.VIOLATION, Conclusion.NORMAL]


def test_zhang_wei_may_refuse_a_reverification_with_a_reason(session, world):
    case_id = new_case(session, world, "red")
    act(session, world, case_id, Event.REQUEST_REVERIFY, "li_na", comment="结论有误")
    refused = act(session, world, case_id, Event.REJECT_REVERIFY, "zhang_wei", comment="证据不足")
    assert refused.to_state == State.RECTIFYING and refused.due_on is not None


# --- 认定正常 on a large payment ------------------------------------------------------------


def test_a_normal_conclusion_on_a_large_payment_waits_for_zhang_weis_signature(session, world, tmp_path):
    from models.enums import Conclusion
    from tests.factories import verification_slip

    case_id = new_case(session, world, "yellow", amount="500000.00")
    filed = act(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na",
                slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    assert filed.to_state == State.NORMAL_REVIEW
    assert case_id in [r.id for r in review_queue(session, actor=world.actors["zhang_wei"], as_of=NOW)]
    sent_back = act(session, world, case_id, Event.REJECT_NORMAL, "zhang_wei", comment="补充合同")
    assert sent_back.to_state == State.VERIFYING
    second = act(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na",
                 slip=verification_slip(Conclusion.NORMAL)).slip_id  # fmt: skip
    done = act(session, world, case_id, Event.APPROVE_NORMAL, "zhang_wei", comment="材料齐全")
    assert done.to_state == State.GREEN
    first_text = pdf_text(slip_pdf(session, filed.slip_id), tmp_path)
    assert "退回重新核实：补充合同" in first_text
    assert "同意。材料齐全" in pdf_text(slip_pdf(session, second), tmp_path)


def test_a_normal_conclusion_on_a_small_payment_closes_at_once(session, world):
    from models.enums import Conclusion
    from tests.factories import verification_slip

    case_id = new_case(session, world, "yellow", amount="99999.99")
    filed = act(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na",
                slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    assert filed.to_state == State.GREEN
