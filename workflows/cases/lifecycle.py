"""The case lifecycle as data: for each (state, event), who may do it, what slip it needs,
where it leads and which deadline it sets. `transition()` applies this table and nothing
else decides a case's state.

yellow bell → yellow light → verify → green or red → rectify → green (DOMAIN.md)
"""

from enum import StrEnum

from models import Case, CaseEvent
from models.enums import OPEN_STATES, Event, Level, Resolution, Role, SlipKind, State
from workflows.core.machine import Machine, Outcome, Step, Wording, goes

__all__ = ["AMENDMENT", "INITIAL", "LADDER", "LIFECYCLE", "Branch", "Deadline", "Outcome", "Step", "only"]


class Deadline(StrEnum):
    """Which deadline the new step gets."""

    KEEP = "keep"  # the step continues the same clock (e.g. starting verification)
    CLEAR = "clear"  # closed: no deadline
    DUTY = "duty"  # a yellow bell's duty deadline, from the warning itself
    VERIFY = "verify"  # rule.verify_days working days (Henan art. 16: 5)
    RECTIFY = "rectify"  # rule.rectify_days working days
    REVIEW = "review"  # rule.review_days working days for the supervisor


class Branch(StrEnum):
    """What picks the outcome when an event can lead to more than one state."""

    NONE = ""
    # the verification slip's conclusion: normal (or normal on a payment above the review
    # amount: "normal_review") or violation
    CONCLUSION = "conclusion"
    BELL_BECOMES = "bell_becomes"  # the rule says what an expired yellow bell becomes
    # who reported a bell's duty done: the platform's data clears it ("data"); a person's word
    # waits for the supervisor's sign-off ("review"), unless the setting says it need not
    # ("person"; duty_rules.needs_clearance_review)
    REPORTER = "reporter"


HANDLER = frozenset({Role.HANDLER})
SUPERVISOR = frozenset({Role.SUPERVISOR})


def only(to: State, deadline: Deadline, resolution: Resolution | None = None) -> dict[str, Outcome]:
    return goes(to, deadline, resolution)


VERIFY_OUTCOMES = {
    "normal": Outcome(State.GREEN, Deadline.CLEAR, Resolution.NORMAL),
    "normal_review": Outcome(State.NORMAL_REVIEW, Deadline.REVIEW),
    "violation": Outcome(State.RED_LIGHT, Deadline.RECTIFY),
}


def _build() -> dict[tuple[State, Event], Step]:
    table: dict[tuple[State, Event], Step] = {
        (State.YELLOW_BELL, Event.COMPLETE_DUTY): Step(
            # Reported done by the handler, or by the platform's data; either way with the
            # day it was done (on time: workflows/cases/duties.py converts a late one) and a
            # note saying on what evidence. A person's word is signed off by the supervisor,
            # who therefore does not report it.
            roles=frozenset({Role.HANDLER, Role.INTEGRATION, Role.SYSTEM}),
            needs_comment=True,
            needs_done_at=True,
            branch=Branch.REPORTER,
            outcomes={
                "data": Outcome(State.CLEARED, Deadline.CLEAR, Resolution.CLEARED),
                "person": Outcome(State.CLEARED, Deadline.CLEAR, Resolution.CLEARED),
                "review": Outcome(State.CLEARANCE_REVIEW, Deadline.REVIEW),
            },
        ),
        (State.YELLOW_BELL, Event.BELL_DEADLINE_PASSED): Step(
            roles=frozenset({Role.SYSTEM}),
            branch=Branch.BELL_BECOMES,
            outcomes={
                Level.YELLOW_LIGHT.value: Outcome(State.YELLOW_LIGHT, Deadline.VERIFY),
                Level.RED_LIGHT.value: Outcome(State.RED_LIGHT, Deadline.RECTIFY),
            },
        ),
        (State.YELLOW_LIGHT, Event.START_VERIFY): Step(
            roles=HANDLER, outcomes=only(State.VERIFYING, Deadline.KEEP)
        ),
        (State.RED_LIGHT, Event.START_RECTIFY): Step(
            roles=HANDLER, outcomes=only(State.RECTIFYING, Deadline.KEEP)
        ),
        (State.RECTIFICATION_REVIEW, Event.APPROVE_RECTIFICATION): Step(
            roles=SUPERVISOR,
            signs=SlipKind.RECTIFICATION,
            outcomes=only(State.GREEN, Deadline.CLEAR, Resolution.RECTIFIED),
        ),
        (State.RECTIFICATION_REVIEW, Event.REJECT_RECTIFICATION): Step(
            roles=SUPERVISOR,
            needs_comment=True,
            signs=SlipKind.RECTIFICATION,
            outcomes=only(State.RECTIFYING, Deadline.RECTIFY),
        ),
    }
    # A slip may be filed straight from the light, without "start" first.
    for state in (State.YELLOW_LIGHT, State.VERIFYING):
        table[(state, Event.SUBMIT_VERIFICATION)] = Step(
            roles=HANDLER,
            slip=SlipKind.VERIFICATION,
            branch=Branch.CONCLUSION,
            outcomes=VERIFY_OUTCOMES,
        )
    for state in (State.RED_LIGHT, State.RECTIFYING):
        table[(state, Event.SUBMIT_RECTIFICATION)] = Step(
            roles=HANDLER,
            slip=SlipKind.RECTIFICATION,
            outcomes=only(State.RECTIFICATION_REVIEW, Deadline.REVIEW),
        )
    # 认定正常 on a large payment: the supervisor signs it (closing it) or sends it back.
    table[(State.NORMAL_REVIEW, Event.APPROVE_NORMAL)] = Step(
        roles=SUPERVISOR, signs=SlipKind.VERIFICATION,
        outcomes=only(State.GREEN, Deadline.CLEAR, Resolution.NORMAL),
    )  # fmt: skip
    table[(State.NORMAL_REVIEW, Event.REJECT_NORMAL)] = Step(
        roles=SUPERVISOR, needs_comment=True, signs=SlipKind.VERIFICATION,
        outcomes=only(State.VERIFYING, Deadline.VERIFY),
    )  # fmt: skip
    # 按时履职 on a person's word: the supervisor clears the bell or sends it back to the
    # duty's own deadline (the sweep converts it if that has passed meanwhile).
    table[(State.CLEARANCE_REVIEW, Event.APPROVE_CLEARANCE)] = Step(
        roles=SUPERVISOR, outcomes=only(State.CLEARED, Deadline.CLEAR, Resolution.CLEARED)
    )
    table[(State.CLEARANCE_REVIEW, Event.REJECT_CLEARANCE)] = Step(
        roles=SUPERVISOR, needs_comment=True, outcomes=only(State.YELLOW_BELL, Deadline.DUTY)
    )
    # 重新核实: a violation found wrongly is verified again on a new slip (the first stays).
    for state in (State.RED_LIGHT, State.RECTIFYING):
        table[(state, Event.REQUEST_REVERIFY)] = Step(
            roles=HANDLER, needs_comment=True,
            outcomes=only(State.REVERIFY_REVIEW, Deadline.REVIEW),
        )  # fmt: skip
    table[(State.REVERIFY_REVIEW, Event.APPROVE_REVERIFY)] = Step(
        roles=SUPERVISOR, outcomes=only(State.VERIFYING, Deadline.VERIFY)
    )
    table[(State.REVERIFY_REVIEW, Event.REJECT_REVERIFY)] = Step(
        roles=SUPERVISOR, needs_comment=True, outcomes=only(State.RECTIFYING, Deadline.RECTIFY)
    )
    for state in (State.RED_LIGHT, State.RECTIFYING, State.RECTIFICATION_REVIEW):
        table[(state, Event.TRANSFER)] = Step(
            roles=SUPERVISOR,
            needs_comment=True,
            outcomes=only(State.TRANSFERRED, Deadline.CLEAR, Resolution.TRANSFERRED),
        )
    for state in OPEN_STATES:
        table[(state, Event.REASSIGN)] = Step(
            roles=SUPERVISOR, needs_assignee=True, outcomes=only(state, Deadline.KEEP)
        )
    return table


LIFECYCLE: dict[tuple[State, Event], Step] = _build()


def _build_ladder() -> dict[tuple[State, Event], Step]:
    """The deadline ladder's events (Changchun art. 18, 23): none moves the case to another
    state. Only the sweep escalates (workflows/escalation/sweep.py); extension requests and the
    supervisor's decisions are written by workflows/escalation/extensions.py, which also writes the
    request row, requires the reasons and sets the new deadline or level. They are kept out
    of LIFECYCLE so that transition() (and the generic action route) refuses them: fired
    there they would leave a timeline entry without its request, reason or new date.
    A bell's duty is not on the ladder: it converts instead."""
    table: dict[tuple[State, Event], Step] = {}
    for state in OPEN_STATES:
        if state == State.YELLOW_BELL:
            continue
        table[(state, Event.ESCALATE)] = Step(
            roles=frozenset({Role.SYSTEM}), outcomes=only(state, Deadline.KEEP)
        )
        table[(state, Event.REQUEST_EXTENSION)] = Step(
            roles=HANDLER, needs_comment=True, outcomes=only(state, Deadline.KEEP)
        )
        # An approved extension's date is the supervisor's (extensions.py sets it).
        table[(state, Event.APPROVE_EXTENSION)] = Step(roles=SUPERVISOR, outcomes=only(state, Deadline.KEEP))
        for event in (Event.REJECT_EXTENSION, Event.REJECT_ESCALATION):
            table[(state, event)] = Step(roles=SUPERVISOR, needs_comment=True, outcomes=only(state, Deadline.KEEP))
        table[(state, Event.ESCALATE_TO_BUREAU)] = Step(roles=SUPERVISOR, outcomes=only(state, Deadline.KEEP))
    return table


LADDER: dict[tuple[State, Event], Step] = _build_ladder()

# Amending the case's latest rectification slip (workflows/cases/amend.py), by the case's
# state: a signed approval is voided and the case goes back to review (a green case that was
# rectified); amending while in review marks the review as changed. Kept out of LIFECYCLE:
# fired by itself the event would leave no amended version behind it.
AMENDMENT: dict[State, Step] = {
    State.GREEN: Step(
        roles=HANDLER, needs_comment=True,
        outcomes=only(State.RECTIFICATION_REVIEW, Deadline.REVIEW),
    ),
    State.RECTIFICATION_REVIEW: Step(
        roles=HANDLER, needs_comment=True,
        outcomes=only(State.RECTIFICATION_REVIEW, Deadline.KEEP),
    ),
}  # fmt: skip

# The two machines over a case's row and its timeline. The ladder's refusal of a state does
# not name the state: its events are asked for from the supervisor's queue, not the case page.
CASE_MACHINE = Machine(
    LIFECYCLE, Case.__table__, CaseEvent.__table__, subject="case_id", orm=Case,
    wording=Wording(admin="系统管理员不得办理案件（不得混岗）"),
)  # fmt: skip
LADDER_MACHINE = Machine(
    LADDER, Case.__table__, CaseEvent.__table__, subject="case_id", orm=Case,
    wording=Wording(wrong_state="{who}当前状态不能执行“{event}”"),
)  # fmt: skip

# How a case starts, by the level its warning was raised at.
INITIAL: dict[Level, Outcome] = {
    Level.YELLOW_BELL: Outcome(State.YELLOW_BELL, Deadline.DUTY),
    Level.YELLOW_LIGHT: Outcome(State.YELLOW_LIGHT, Deadline.VERIFY),
    Level.RED_LIGHT: Outcome(State.RED_LIGHT, Deadline.RECTIFY),
}


def ladder_events_allowed(state: State, role: Role) -> list[Event]:
    """The ladder events this role may ask for on a case in this state (workflows/escalation/extensions.py)."""
    return [event for (s, event), step in LADDER.items() if s == state and role in step.roles]


def events_allowed(state: State, role: Role) -> list[Event]:
    """The events this role may fire on a case in this state (for buttons and API hints)."""
    return [event for (s, event), step in LIFECYCLE.items() if s == state and role in step.roles]
