"""What a yellow bell's duty reported done must say, and when it clears the bell (Changchun
art. 19, 22). One check for every reporter: the platform's account (a moment) and a person
(a date), in workflows/cases/duties.py, and transition() itself (workflows/cases/plan.py), so
that no door clears a bell on a late or missing done_at."""

from datetime import date

from models.enums import Role
from models.settings import get_settings
from workflows.core.errors import InvalidInput
from workflows.core.roles import PLATFORM

# The platform's account, or the system itself (a job reading the platform's data): their
# report is the platform's data, not a person's word.
DATA_REPORTERS = PLATFORM | {Role.SYSTEM}


def done_in_time(done_on: date, due_on: date | None) -> bool:
    """A duty done on or before its deadline's day clears the bell; later, it does not."""
    return due_on is None or done_on <= due_on


def check_done_on(done_on: date | None, *, raised_on: date, today: date) -> None:
    """Refuse a missing done_at, one in the future or one before the warning was raised."""
    if done_on is None:
        raise InvalidInput.single("done_at", "required", "请填写履职完成日期（done_at）")
    if done_on > today:
        raise InvalidInput.single("done_at", "future", f"履职完成日期（done_at）不能晚于今天（{today}）")
    if done_on < raised_on:
        raise InvalidInput.single(
            "done_at", "before_raised", f"履职完成日期（done_at）不能早于预警产生日期（{raised_on}）"
        )


def needs_clearance_review(role: Role) -> bool:
    """Whether a clearance reported by this role waits for the supervisor's sign-off: a
    person's word does (setting review_person_clearances), the platform's data does not."""
    return role not in DATA_REPORTERS and get_settings().review_person_clearances
