"""The records of oversight cases: the inspection slip (督查单) and the interview record (约谈记录).

A step of the oversight lifecycle names the record fields it requires; `clean_record()` reads
what was sent (from JSON or a page's form), `check_record()` checks the case's record once the
step's input is merged in and raises InvalidInput naming every field with a Chinese message
("record.minutes": "请填写约谈纪要"). Nothing is written when a check fails.
"""

from datetime import date
from typing import Any

from workflows.core.errors import FieldError, InvalidInput

TEXT_MAX = 8000
SHORT_MAX = 200

# Field name → the words on the form and the page.
INSPECTION_FIELDS = {
    "scope": "督查范围",
    "findings": "督查发现",
    "problems": "存在问题",
    "rectifications": "整改要求",
    "conclusion": "督查结论",
}
INTERVIEW_FIELDS = {
    "interview_date": "约谈日期",
    "place": "约谈地点",
    "interviewee": "被约谈人",
    "attendees": "参加人员",
    "minutes": "约谈纪要",
    "commitments": "整改承诺",
    "follow_up": "跟踪情况",
}
COMMITMENT_FIELDS = {"content": "承诺事项", "due_on": "完成时限", "done": "是否完成"}
LABELS = {**INSPECTION_FIELDS, **INTERVIEW_FIELDS}
TEXT_FIELDS = (*INSPECTION_FIELDS, "place", "interviewee", "minutes", "follow_up")

_REQUIRED_MESSAGES = {
    "scope": "请填写督查范围",
    "findings": "请填写督查发现",
    "problems": "请填写存在问题",
    "rectifications": "请填写整改要求",
    "conclusion": "请填写督查结论",
    "interview_date": "请填写约谈日期",
    "place": "请填写约谈地点",
    "interviewee": "请填写被约谈人（该市县财政局主要负责同志）",
    "attendees": "请填写参加人员",
    "minutes": "请填写约谈纪要",
    "commitments": "请至少填写一项整改承诺",
    "follow_up": "请填写跟踪情况",
}


def _text(value: Any, field: str, errors: list[FieldError], limit: int = TEXT_MAX) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        errors.append(
            FieldError(
                f"record.{field}", "too_long", f"{LABELS.get(field, field)}不能超过 {limit} 字"
            )
        )
    return text


def _date(value: Any, field: str, errors: list[FieldError]) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        errors.append(FieldError(field, "invalid_date", "请填写日期，如 2026-12-15"))
        return None


def _attendees(value: Any) -> list[str]:
    """A list of names, or text with one name per line or separated by 、，, ;"""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).replace("\r", "\n").split("\n")
    names: list[str] = []
    for item in items:
        for part in (
            str(item)
            .replace("，", "、")
            .replace(",", "、")
            .replace("；", "、")
            .replace(";", "、")
            .split("、")
        ):
            part = part.strip()
            if part and part not in names:
                names.append(part[:SHORT_MAX])
    return names


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "on", "yes", "是")


def _commitments(value: Any, errors: list[FieldError]) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.append(FieldError("record.commitments", "invalid", "整改承诺格式有误"))
        return []
    cleaned = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            errors.append(FieldError(f"record.commitments.{n}", "invalid", "整改承诺格式有误"))
            continue
        content = _text(item.get("content"), "commitments", errors, SHORT_MAX * 5)
        due_on = _date(item.get("due_on"), f"record.commitments.{n}.due_on", errors)
        if not content and not due_on:
            continue  # an empty row of the form
        if not content:
            errors.append(
                FieldError(f"record.commitments.{n}.content", "required", "请填写承诺事项")
            )
        if not due_on and item.get("due_on") in (None, ""):
            errors.append(
                FieldError(f"record.commitments.{n}.due_on", "required", "请填写完成时限")
            )
        cleaned.append({"content": content, "due_on": due_on, "done": _truthy(item.get("done"))})
    return cleaned


def clean_record(record: dict[str, Any] | None) -> dict[str, Any]:
    """The known fields of what was sent, normalised (text stripped, dates ISO, attendees a
    list); unknown fields refused."""
    record = record or {}
    errors: list[FieldError] = []
    unknown = sorted(set(record) - set(LABELS))
    for name in unknown:
        errors.append(FieldError(f"record.{name}", "unknown_field", f"不认识的字段：{name}"))
    cleaned: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in record:
            limit = SHORT_MAX if name in ("place", "interviewee") else TEXT_MAX
            cleaned[name] = _text(record[name], name, errors, limit)
    if "interview_date" in record:
        cleaned["interview_date"] = _date(record["interview_date"], "record.interview_date", errors)
    if "attendees" in record:
        cleaned["attendees"] = _attendees(record["attendees"])
    if "commitments" in record:
        cleaned["commitments"] = _commitments(record["commitments"], errors)
    if errors:
        raise InvalidInput("填写有误，请按提示修改", errors=errors)
    return cleaned


def check_record(
    record: dict[str, Any], required: tuple[str, ...], *, all_done: bool = False
) -> None:
    """Raise InvalidInput naming every required field missing from the (merged) record."""
    errors = [
        FieldError(f"record.{name}", "required", _REQUIRED_MESSAGES[name])
        for name in required
        if not record.get(name)
    ]
    interviewee = (record.get("interviewee") or "").strip()
    attendees = record.get("attendees") or []
    listed = any(interviewee in name or name in interviewee for name in attendees)
    if "attendees" in required and interviewee and attendees and not listed:
        errors.append(
            FieldError(
                "record.attendees",
                "interviewee_missing",
                f"参加人员须包括被约谈人（{interviewee}）",
            )
        )
    if all_done and record.get("commitments"):
        open_items = [n for n, c in enumerate(record["commitments"]) if not c.get("done")]
        for n in open_items:
            errors.append(
                FieldError(f"record.commitments.{n}.done", "not_done", "整改承诺尚未完成，不能办结")
            )
    if errors:
        raise InvalidInput("记录填写不完整或有误，请按提示修改", errors=errors)
