"""Persons, recorded once: the ID number as a keyed hash, shown masked; and the rule that one
person holds no administrator account beside an operator account (不得混岗).

The ID number (GB 11643: 17 digits and a check character) is checked, then kept only as
HMAC-SHA256 under the deployment's key (WARNFLOW_ID_NUMBER_KEY) and as a masked form such
as 4101**********123X. The same number entered again finds the same person.
"""

import hashlib
import hmac
import re

import sqlalchemy as sa
from sqlmodel import Session, select

from models import User
from models.enums import Role
from models.persons import Person
from models.settings import get_settings
from workflows.core.errors import FieldError, InvalidInput
from workflows.core.roles import ADMINS, OPERATORS

_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def normalise_id_number(value: str | None) -> str:
    return (value or "").strip().upper().replace(" ", "")


def id_number_error(value: str | None, field: str = "id_number") -> FieldError | None:
    """What is wrong with an ID number as typed, or None."""
    number = normalise_id_number(value)
    if not number:
        return FieldError(field, "required", "请填写身份证号")
    if not _ID_NUMBER.match(number):
        return FieldError(field, "invalid", "身份证号应为 18 位（前 17 位数字，末位数字或 X）")
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != number[17]:
        return FieldError(field, "checksum", "身份证号校验位不符，请核对")
    return None


def with_check_character(first17: str) -> str:
    """The 18-character ID number whose first 17 digits are these (GB 11643)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _CHECK[total % 11]


def hash_id_number(number: str) -> str:
    key = get_settings().id_number_hash_key()
    return hmac.new(key, normalise_id_number(number).encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str) -> str:
    number = normalise_id_number(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def find_person(session: Session, id_number: str) -> Person | None:
    return session.exec(select(Person).where(Person.id_number_hash == hash_id_number(id_number))).first()


def record_person(
    session: Session, *, full_name: str, id_number: str, phone: str | None = None,
    position: str | None = None,
) -> Person:
    """The person with this ID number, recorded now if new (flushes). A known number under
    another name is refused: one number, one person."""
    error = id_number_error(id_number)
    if error is not None:
        raise InvalidInput(error.message, errors=[error])
    full_name = (full_name or "").strip()
    person = find_person(session, id_number)
    if person is not None:
        if person.full_name != full_name:
            raise InvalidInput.single(
                "id_number", "other_person", f"该身份证号已登记为 {person.full_name}，与姓名不符"
            )
        person.phone = phone or person.phone
        person.position = position or person.position
    else:
        person = Person(full_name=full_name, id_number_hash=hash_id_number(id_number),
                        id_number_masked=mask_id_number(id_number), phone=phone, position=position)
    session.add(person)
    session.flush()
    return person


def _side(role: Role) -> str | None:
    return "admin" if role in ADMINS else "operator" if role in OPERATORS else None


def check_separation(
    session: Session, *, role: Role, person_id: int | None, full_name: str, phone: str | None,
    user_id: int | None = None,
) -> None:
    """Refuse an administrator account for a person who holds an active operator account, and
    the reverse. The person is found by their record, or, for accounts opened before persons
    were recorded, by the same name and phone."""
    side = _side(Role(role))
    if side is None:
        return
    same = []
    if person_id is not None:
        same.append(User.person_id == person_id)
    if phone and full_name:
        same.append(sa.and_(User.full_name == full_name.strip(), User.phone == phone.strip()))
    if not same:
        return
    query = select(User).where(sa.or_(*same), User.is_active.is_(True))
    if user_id is not None:
        query = query.where(User.id != user_id)
    for other in session.exec(query.order_by(User.id)).all():
        other_side = _side(Role(other.role))
        if other_side is not None and other_side != side:
            kind = "系统管理员" if other_side == "admin" else "业务操作"
            raise InvalidInput.single(
                "role", "separation_of_duties",
                f"不得混岗：{other.full_name} 已持有{kind}账户 {other.username}（{Role(other.role).label}），"
                "同一人不能同时持有系统管理员账户和业务操作账户",
            )
