"""Accounts in bulk (kind=users): the go-live roster, loaded on the server by its operator
(`warnflow import users`, like the `warnflow users add` bootstrap); afterwards accounts go
by application (workflows/admin/applications.py), and nobody else may import them. One row
per person opens the account, or changes it when the user name exists already, through the
same workflows as an approved application (open_user, change_user: the same checks and
audit records as one account at a time).

The ID number (身份证号) is checked (18 characters, its check digit) and, for a new account,
required: open_user records the person once, by the number's keyed hash (never in clear),
so one person cannot hold an administrator and an operator account. New accounts get a
random one-time password nobody sees; the administrator resets it (系统管理 → 账户 → 重置密码)
when handing the account over.
"""

from datetime import datetime

from sqlmodel import Session, select

from models import OrgUnit, User
from models.enums import Role
from workflows.admin.users import change_user, generate_password, get_user, open_user
from workflows.core.actors import Actor
from workflows.core.errors import DomainError
from workflows.imports.kinds import BatchOutcome, Column, Kind
from workflows.intake.imports import strip_controls

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_ok(text: str) -> bool:
    """An 18-character resident ID number with a valid check digit (GB 11643)."""
    text = text.upper()
    if len(text) != 18 or not text[:17].isdigit():
        return False
    return _ID_CHECK[sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True)) % 11] == text[17]


def _role(text: str) -> Role | None:
    for role in Role:
        if role != Role.SYSTEM and text in (role.value, role.label):
            return role
    return None


COLUMNS = (
    Column("username", "用户名", ("登录名", "账号"), required=True, example="anxian_agri_h4",
           help="小写字母开头，3–64 位小写字母、数字或 _ . -；已存在的用户名则按本行变更该账户"),
    Column("full_name", "姓名", (), required=True, example="王芳"),
    Column("unit_code", "单位编码", ("处室编码", "部门编码", "单位代码"), required=True, example="410121-NC",
           help="账户所属单位（处室）的编码"),
    Column("role", "角色", ("权限",), required=True, example="经办人",
           help="可选：" + "、".join(r.label for r in Role if r != Role.SYSTEM)),
    Column("id_number", "身份证号", ("身份证号码",), example="",
           help="18 位，开通账户时必填；核对校验位后只保存其密钥哈希（一人一档，不得混岗）"),
    Column("position", "职务", ("职位",), example="科员"),
    Column("phone", "联系电话", ("电话", "手机"), example="0371-60000000",
           help="请设为文本格式"),
    Column("email", "邮箱", ("电子邮箱",), example=""),
)
_LABELS = {c.field: c.label for c in COLUMNS} | {"org_unit_id": "单位编码", "password": "用户名"}


def write_users(session: Session, actor: Actor, items: list[dict], as_of: datetime,
                source: str) -> BatchOutcome:
    outcome = BatchOutcome()
    codes = {str(i.get("unit_code")) for i in items if i.get("unit_code")}
    units = dict(session.exec(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.in_(codes))).all()) if codes else {}
    names = {str(i.get("username")).strip() for i in items if i.get("username")}
    existing = dict(session.exec(select(User.username, User.id).where(User.username.in_(names))).all()) if names else {}
    for index, raw in enumerate(items):
        item, stripped = strip_controls(raw)
        outcome.stripped += stripped
        problems = []
        for column in COLUMNS:
            if column.required and not item.get(column.field):
                problems.append((column.field, f"{column.label}：必填"))
        role = _role(str(item.get("role") or ""))
        if item.get("role") and role is None:
            problems.append(("role", "角色：不是可选的值"))
        unit_id = units.get(str(item.get("unit_code") or ""))
        if item.get("unit_code") and unit_id is None:
            problems.append(("unit_code", f"单位编码 {item['unit_code']} 不存在"))
        if item.get("id_number") and not id_number_ok(str(item["id_number"])):
            problems.append(("id_number", "身份证号：不是有效的 18 位身份证号（校验位不符）"))
        if problems:
            outcome.errors += [(index, f, m) for f, m in problems]
            continue
        fields = {"full_name": item["full_name"], "position": item.get("position"),
                  "phone": item.get("phone"), "email": item.get("email")}
        username = str(item["username"]).strip()
        try:
            with session.begin_nested():
                if username in existing:
                    before = get_user(session, actor=actor, user_id=existing[username])
                    after = change_user(session, actor=actor, user_id=existing[username],
                                        changes={**fields, "role": role, "org_unit_id": unit_id}, as_of=as_of)
                    if after == before:
                        outcome.duplicates += 1
                    else:
                        outcome.updated += 1
                else:
                    row = open_user(session, actor=actor, username=username, role=role,
                                    org_unit_id=unit_id, password=generate_password(), as_of=as_of,
                                    id_number=item.get("id_number") or None, **fields)
                    existing[username] = row.id
                    outcome.created += 1
        except DomainError as error:
            for e in error.errors or []:
                outcome.errors.append((index, e.field, f"{_LABELS.get(e.field, e.field)}：{e.message}"))
            if not error.errors:
                outcome.errors.append((index, "username", error.message))
    return outcome


USERS = Kind(name="users", label="账户", columns=COLUMNS, write=write_users, chunk=500,
             roles_note="其他列不导入。仅用于上线时在服务器上初始化账户（warnflow import users）；用户名已存在的行"
                        "按本行变更该账户；新开通的账户须由管理员重置密码后交给本人。此后账户通过账户申请办理。",
             system_only=True)
