"""Typed domain errors: an English code for programs, a Chinese message for people.

The API turns them into HTTP answers in one handler (JSON: code, message, field paths;
HTML: the form again with the messages).
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FieldError:
    field: str  # a dotted path into the input, e.g. "slip.conclusion"
    code: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.errors = errors or []

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [e.as_dict() for e in self.errors],
        }


class NotFound(DomainError):
    code = "not_found"
    status = 404


class OutOfScope(DomainError):
    """The case is outside the actor's region or department. Reads answer 404, actions 403."""

    code = "out_of_scope"
    status = 403


class RoleNotAllowed(DomainError):
    code = "role_not_allowed"
    status = 403


class InvalidState(DomainError):
    code = "invalid_state"
    status = 409


class StaleVersion(DomainError):
    code = "stale_version"
    status = 409


class AlreadyExists(DomainError):
    """A unique name (username, rule code) is taken: the request conflicts with existing data."""

    code = "already_exists"
    status = 409


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422

    @classmethod
    def single(cls, field: str, code: str, message: str) -> "InvalidInput":
        return cls(message, errors=[FieldError(field, code, message)])


class BatchRefused(DomainError):
    """One item of a batch was refused, so none was applied; `items` says which and why."""

    code = "batch_refused"
    status = 409

    def __init__(self, message: str, *, items: list[dict]):
        super().__init__(message)
        self.items = items

    def as_dict(self) -> dict:
        return {**super().as_dict(), "items": self.items}
