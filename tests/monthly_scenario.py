"""November 2026 in 安县 and 宁县, with known outcomes, for the monthly summary's tests.

Li Na (安县农财股) handles most cases; Chen Jie (安县预算股) one; Zhao Lei (宁县农财股) one.
The report is drafted on Tuesday 2026-12-01, the first working day of December.

    A  yellow, raised 11-23, verified normal 11-25                     closed in month
    B  yellow, raised 11-23, violation 11-24 (涉及 12,345.67), rectified 11-26
       (收回 12,345.67), approved by Zhang Wei 11-27                  closed, rectified
    C  red, raised 11-23 (due 12-07)                                   open red
    D  yellow, raised 11-02 (due 11-09), escalated 11-11               open, overdue
    F  yellow for Chen Jie's budget section, raised 11-23 (due 11-30)  open, not overdue
    H  yellow, raised 11-23, verified normal 12-01 08:30 (after the month): open at month end
    I  yellow, raised 11-02, escalated 11-11, verified normal 11-12    closed late
    E  yellow, raised 10-20, verified normal 10-22                     before the month
    G  red in 宁县, raised 11-03 (due 11-17)                           open, overdue
    J  yellow, raised 12-01 08:00                                      after the month
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from models import Case
from models.enums import Conclusion, Event
from tests.factories import World, new_case, rectification_slip, verification_slip
from workflows.cases.transition import transition
from workflows.escalation.sweep import sweep

MONTH = date(2026, 11, 1)
# Tuesday 2026-12-01 09:00 in Shanghai: the first working day of December.
DRAFT_AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def shanghai(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time in 2026 as UTC."""
    return datetime(2026, month, day, hour - 8, minute, tzinfo=UTC)


@dataclass
class Scenario:
    cases: dict[str, int]

    def number(self, session: Session, key: str) -> str:
        return session.get(Case, self.cases[key]).number


def _act(session, world, case_id, event, at, who="li_na", slip=None):
    return transition(
        session, case_id=case_id, event=event, actor=world.actors[who],
        version=session.get(Case, case_id).version, as_of=at, slip=slip,
    )  # fmt: skip


def build_november(session: Session, world: World) -> Scenario:
    cases: dict[str, int] = {}
    cases["E"] = new_case(session, world, "yellow", at=shanghai(10, 20))
    _act(session, world, cases["E"], Event.SUBMIT_VERIFICATION, shanghai(10, 22),
         slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    cases["D"] = new_case(session, world, "yellow", at=shanghai(11, 2))
    cases["I"] = new_case(session, world, "yellow", at=shanghai(11, 2))
    cases["G"] = new_case(
        session,
        world,
        "red",
        region="ningxian",
        unit="ningxian_agri",
        assignee="zhao_lei",
        at=shanghai(11, 3),
    )
    # The deadline ladder escalates D and I (due 11-09) to level 1.
    sweep(session, as_of=shanghai(11, 11))
    _act(session, world, cases["I"], Event.SUBMIT_VERIFICATION, shanghai(11, 12),
         slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    for key in ("A", "B", "C", "H"):
        cases[key] = new_case(
            session, world, "red" if key == "C" else "yellow", at=shanghai(11, 23)
        )
    cases["F"] = new_case(
        session, world, "yellow", unit="anxian_budget", assignee="chen_jie", at=shanghai(11, 23)
    )
    _act(session, world, cases["A"], Event.SUBMIT_VERIFICATION, shanghai(11, 25),
         slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    _act(session, world, cases["B"], Event.SUBMIT_VERIFICATION, shanghai(11, 24),
         slip=verification_slip(Conclusion.VIOLATION))  # fmt: skip
    _act(session, world, cases["B"], Event.SUBMIT_RECTIFICATION, shanghai(11, 26),
         slip=rectification_slip())  # fmt: skip
    _act(session, world, cases["B"], Event.APPROVE_RECTIFICATION, shanghai(11, 27), who="zhang_wei")
    _act(session, world, cases["H"], Event.SUBMIT_VERIFICATION, shanghai(12, 1, 8, 30),
         slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    cases["J"] = new_case(session, world, "yellow", at=shanghai(12, 1, 8))
    return Scenario(cases)
