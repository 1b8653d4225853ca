"""Accounts by application (Changchun art. 25, annex 3; MoF 2007 art. 17–18).

An account is opened, changed or revoked on a written application (申请) carrying annex 3's
fields: department, name, ID number, position, phone and the permission (role) asked for.
It goes upward: first the applicant's department head (处室负责人审核), then the
administrator (管理员审批), whose approval does it, through the same audited functions as the
account pages (so separation of duties and the case handover apply). Either may refuse with
an opinion. The application and its approvals are kept and print as a form.

Who is the department head: an active account of the applicant's unit holding a head role;
for a unit with none (the office that keeps the administrators, or a one-person treasury
applying about its one head), the leadership of its region. A head handing in the
department's application reviews it by signing it; otherwise nobody approves an application
they submitted or that is about themselves.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from models import OrgUnit, Region, User
from models.enums import ApplicationKind, ApplicationStatus, AuditKind, Role
from models.persons import AccountApplication, Person
from workflows.admin.handover import Handover
from workflows.admin.persons import (
    check_separation,
    find_person,
    hash_id_number,
    id_number_error,
    mask_id_number,
)
from workflows.admin.users import change_user, generate_password, open_user, revoke_user
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.errors import (
    FieldError,
    InvalidInput,
    InvalidState,
    NotFound,
    OutOfScope,
    RoleNotAllowed,
    StaleVersion,
)
from workflows.core.roles import ADMINS

# The head's opinion when the head hands the application in.
HEAD_SUBMITTED = "本处室负责人提交"
HEAD_ROLES = frozenset(
    {Role.SUPERVISOR, Role.TREASURY, Role.POVERTY_OFFICE, Role.SUPERVISION, Role.LEADER, Role.PROVINCE}
)
# Who may hand in an application: anyone of the department, or an administrator keying in a
# paper one.
SUBMITTERS = frozenset(Role) - {Role.SYSTEM, Role.INTEGRATION}


@dataclass(frozen=True)
class ApplicationRow:
    id: int
    kind: ApplicationKind
    kind_label: str
    status: ApplicationStatus
    status_label: str
    user_id: int | None
    username: str | None
    org_unit_id: int
    org_unit_name: str
    region_name: str
    full_name: str
    id_number_masked: str | None
    position: str | None
    phone: str | None
    role: Role | None
    role_label: str | None
    reason: str
    handover_to_id: int | None
    handover_to_name: str | None
    submitted_by_name: str
    submitted_at: datetime
    head_name: str | None
    head_at: datetime | None
    head_opinion: str
    admin_name: str | None
    admin_at: datetime | None
    admin_opinion: str
    version: int


@dataclass(frozen=True)
class Decided:
    application: ApplicationRow
    # An opening's one-time password, shown once to the approving administrator.
    generated_password: str | None = None


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def _row(session: Session, a: AccountApplication) -> ApplicationRow:
    unit_name, region_name = session.exec(
        select(OrgUnit.name, Region.name).join(Region, Region.id == OrgUnit.region_id)
        .where(OrgUnit.id == a.org_unit_id)
    ).one()
    names = _names(session, {a.submitted_by_id, a.head_id, a.admin_id, a.handover_to_id})
    kind, status = ApplicationKind(a.kind), ApplicationStatus(a.status)
    role = Role(a.role) if a.role else None
    return ApplicationRow(
        id=a.id, kind=kind, kind_label=kind.label, status=status, status_label=status.label,
        user_id=a.user_id, username=a.username, org_unit_id=a.org_unit_id, org_unit_name=unit_name,
        region_name=region_name, full_name=a.full_name, id_number_masked=a.id_number_masked,
        position=a.position, phone=a.phone, role=role, role_label=role.label if role else None,
        reason=a.reason, handover_to_id=a.handover_to_id,
        handover_to_name=names.get(a.handover_to_id),
        submitted_by_name=names.get(a.submitted_by_id, "系统管理员（命令行）"),
        submitted_at=a.submitted_at, head_name=names.get(a.head_id), head_at=a.head_at,
        head_opinion=a.head_opinion, admin_name=names.get(a.admin_id), admin_at=a.admin_at,
        admin_opinion=a.admin_opinion, version=a.version,
    )


def _unit_path(session: Session, org_unit_id: Any) -> str | None:
    return session.exec(
        select(Region.path).join(OrgUnit, OrgUnit.region_id == Region.id).where(OrgUnit.id == org_unit_id)
    ).first()


def _may_see(session: Session, actor: Actor, application: AccountApplication, path: str) -> bool:
    """An administrator sees their scope; a department its own; a leader those they review."""
    if actor.role in ADMINS:
        return actor.sees_region(path)
    return actor.org_unit_id == application.org_unit_id or (
        actor.role == Role.LEADER and actor.sees_region(path)
        and actor.user_id in reviewers(session, application)
    )


def _load(session: Session, actor: Actor, application_id: int) -> AccountApplication:
    application = session.get(AccountApplication, application_id)
    if application is None:
        raise NotFound("账户申请不存在")
    if not _may_see(session, actor, application, _unit_path(session, application.org_unit_id)):
        raise NotFound("账户申请不存在")
    return application


def get_application(session: Session, *, actor: Actor, application_id: int) -> ApplicationRow:
    return _row(session, _load(session, actor, application_id))


def list_applications(
    session: Session, *, actor: Actor, status: ApplicationStatus | None = None
) -> list[ApplicationRow]:
    """Applications the actor may see: an administrator's scope, a department's own, a
    leader's region; newest first."""
    query = (select(AccountApplication, Region.path)
             .join(OrgUnit, OrgUnit.id == AccountApplication.org_unit_id)
             .join(Region, Region.id == OrgUnit.region_id))
    if status is not None:
        query = query.where(AccountApplication.status == ApplicationStatus(status))
    rows = session.exec(query.order_by(AccountApplication.id.desc())).all()
    return [_row(session, a) for a, path in rows if _may_see(session, actor, a, path)]


def _text(value: Any, field: str, limit: int, errors: list[FieldError], *, required: str = "") -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors.append(FieldError(field, "required", required))
    elif len(text) > limit:
        errors.append(FieldError(field, "string_too_long", "内容过长"))
    return text or None


def submit_application(
    session: Session,
    *,
    actor: Actor,
    kind: ApplicationKind | str,
    as_of: datetime,
    org_unit_id: int | None = None,
    user_id: int | None = None,
    full_name: str | None = None,
    id_number: str | None = None,
    position: str | None = None,
    phone: str | None = None,
    role: Role | str | None = None,
    username: str | None = None,
    reason: str = "",
    handover_to_id: int | None = None,
) -> ApplicationRow:
    """Hand in an application to open an account for a person, or to change or revoke an
    account (then `user_id` names it and the rest defaults to what it holds now)."""
    if actor.role not in SUBMITTERS:
        raise RoleNotAllowed("您的角色不能提交账户申请")
    errors: list[FieldError] = []
    try:
        kind = ApplicationKind(kind)
    except ValueError:
        raise InvalidInput.single("kind", "enum", "申请类别应为开通、变更或注销") from None
    target = None
    if kind != ApplicationKind.OPEN:
        target = session.get(User, user_id) if user_id else None
        if target is None:
            raise InvalidInput.single("user_id", "required", "请指明要变更或注销的账户")
        org_unit_id = target.org_unit_id if kind == ApplicationKind.REVOKE else (org_unit_id or target.org_unit_id)
        full_name = full_name or target.full_name
        phone = phone if phone is not None else target.phone
        position = position if position is not None else target.position
        role = role or target.role
        username = target.username
    path = _unit_path(session, org_unit_id)
    if path is None:
        raise InvalidInput.single("org_unit_id", "unknown", "申请单位（处室）不存在")
    if actor.role in ADMINS:
        if not actor.sees_region(path):
            raise OutOfScope("该单位不在您的管理范围内")
    elif actor.org_unit_id not in (org_unit_id, target.org_unit_id if target else None):
        raise OutOfScope("只能为本处室的人员提交账户申请")
    full_name = _text(full_name, "full_name", 64, errors, required="请填写姓名")
    opening = kind == ApplicationKind.OPEN
    position = _text(position, "position", 64, errors, required="请填写职务" if opening else "")
    phone = _text(phone, "phone", 32, errors, required="请填写联系电话" if opening else "")
    reason = _text(reason, "reason", 2000, errors) or ""
    try:
        role = Role(role) if role else None
    except ValueError:
        errors.append(FieldError("role", "invalid", "权限（角色）不是可选的值"))
        role = None
    if kind != ApplicationKind.REVOKE and (role is None or role == Role.SYSTEM):
        errors.append(FieldError("role", "required", "请选择申请的权限（角色）"))
    hashed = masked = None
    if kind == ApplicationKind.OPEN:
        error = id_number_error(id_number)
        if error is not None:
            errors.append(error)
        else:
            hashed, masked = hash_id_number(id_number), mask_id_number(id_number)
        if not (username or "").strip():
            errors.append(FieldError("username", "required", "请填写拟用用户名"))
    elif target.person_id is not None:
        person = session.get(Person, target.person_id)
        hashed, masked = person.id_number_hash, person.id_number_masked
    if errors:
        raise InvalidInput("申请信息有误，请按提示修改", errors=errors)
    if kind == ApplicationKind.OPEN and role is not None:
        # Refused now rather than after two approvals.
        person = find_person(session, id_number)
        check_separation(session, role=role, person_id=person.id if person else None,
                         full_name=full_name, phone=phone)
    application = AccountApplication(
        kind=kind, status=ApplicationStatus.SUBMITTED, user_id=target.id if target else None,
        org_unit_id=org_unit_id, full_name=full_name, id_number_hash=hashed, id_number_masked=masked,
        position=position, phone=phone, role=role, username=(username or "").strip() or None,
        reason=reason, handover_to_id=handover_to_id, submitted_by_id=actor.user_id, submitted_at=as_of,
    )
    session.add(application)
    session.flush()
    record(session, AuditKind.APPLICATION_CHANGED, as_of=as_of, actor=actor, action="submit",
           application_id=application.id, application_kind=kind.value,
           user_id=target.id if target else None)
    if actor.user_id in reviewers(session, application):
        # The department head handing in the department's application signs it as its
        # reviewer (处室负责人审核): it goes straight to the administrator.
        application.status = ApplicationStatus.HEAD_APPROVED
        application.head_id, application.head_at = actor.user_id, as_of
        application.head_opinion = HEAD_SUBMITTED
        session.add(application)
        session.flush()
        record(session, AuditKind.APPLICATION_CHANGED, as_of=as_of, actor=actor, action="head_approve",
               application_id=application.id)
    return _row(session, application)


def department_heads(session: Session, org_unit_id: int, excluding: set[int | None] | None = None) -> list[int]:
    """Who may approve as the applicant's department head (see the module docstring). Those
    in `excluding` (the submitter, the account's holder) do not count: when they are the
    unit's only heads, as for a county treasury of one, the region's leadership reviews."""
    excluding = excluding or set()
    heads = session.exec(select(User.id).where(
        User.org_unit_id == org_unit_id, User.is_active.is_(True), User.role.in_(HEAD_ROLES))).all()
    heads = [h for h in heads if h not in excluding]
    if heads:
        return heads
    region_id = session.exec(select(OrgUnit.region_id).where(OrgUnit.id == org_unit_id)).one()
    return [h for h in session.exec(
        select(User.id).join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(OrgUnit.region_id == region_id, User.is_active.is_(True), User.role == Role.LEADER)
    ).all() if h not in excluding]


def reviewers(session: Session, application: AccountApplication) -> list[int]:
    """The department heads who may review it, never its holder (a head handing one in has
    reviewed it by doing so: see submit_application)."""
    return department_heads(session, application.org_unit_id, {application.user_id})


def may_review(session: Session, *, actor: Actor, application_id: int) -> bool:
    application = _load(session, actor, application_id)
    return application.status == ApplicationStatus.SUBMITTED and actor.user_id in reviewers(session, application)


def _check_version(application: AccountApplication, version: int) -> None:
    if application.version != version:
        raise StaleVersion("该申请已被他人处理，请刷新后再办理")


def _not_involved(actor: Actor, application: AccountApplication) -> None:
    if actor.user_id is not None and actor.user_id in (application.submitted_by_id, application.user_id):
        raise RoleNotAllowed("不能审批本人提交或与本人有关的账户申请")


def head_decide(
    session: Session, *, actor: Actor, application_id: int, version: int, approve: bool,
    opinion: str = "", as_of: datetime,
) -> ApplicationRow:
    """The department head's 审核: approve (it goes to the administrator) or refuse."""
    application = _load(session, actor, application_id)
    if actor.user_id not in reviewers(session, application):
        raise RoleNotAllowed("只有申请人所在处室的负责人可以审核该申请")
    if application.status != ApplicationStatus.SUBMITTED:
        raise InvalidState(f"该申请{ApplicationStatus(application.status).label}，不能再审核")
    _check_version(application, version)
    _not_involved(actor, application)
    opinion = (opinion or "").strip()
    if not approve and not opinion:
        raise InvalidInput.single("opinion", "required", "不同意时请填写意见")
    application.status = ApplicationStatus.HEAD_APPROVED if approve else ApplicationStatus.REFUSED
    application.head_id, application.head_at, application.head_opinion = actor.user_id, as_of, opinion[:255]
    application.version += 1
    session.add(application)
    session.flush()
    record(session, AuditKind.APPLICATION_CHANGED, as_of=as_of, actor=actor,
           action="head_approve" if approve else "head_refuse", application_id=application.id)
    return _row(session, application)


def admin_decide(
    session: Session, *, actor: Actor, application_id: int, version: int, approve: bool,
    opinion: str = "", as_of: datetime, id_number: str | None = None,
    handover: Handover | None = None,
) -> Decided:
    """The administrator's 审批: approving does what the application asks, in the same
    transaction. Opening needs the ID number typed again (only its hash was kept) and must
    match; the account gets a one-time password, returned once."""
    if actor.role not in ADMINS:
        raise RoleNotAllowed("只有系统管理员可以审批账户申请")
    application = _load(session, actor, application_id)
    if application.status != ApplicationStatus.HEAD_APPROVED:
        raise InvalidState(f"该申请{ApplicationStatus(application.status).label}，管理员不能审批")
    _check_version(application, version)
    _not_involved(actor, application)
    opinion = (opinion or "").strip()
    generated = None
    if not approve:
        if not opinion:
            raise InvalidInput.single("opinion", "required", "不同意时请填写意见")
    else:
        if handover is None and application.handover_to_id is not None:
            handover = Handover(application.handover_to_id)
        generated = _carry_out(session, actor, application, as_of, id_number, handover)
    application.status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REFUSED
    application.admin_id, application.admin_at, application.admin_opinion = actor.user_id, as_of, opinion[:255]
    application.version += 1
    session.add(application)
    session.flush()
    record(session, AuditKind.APPLICATION_CHANGED, as_of=as_of, actor=actor,
           action="admin_approve" if approve else "admin_refuse", application_id=application.id,
           user_id=application.user_id)
    return Decided(_row(session, application), generated)


def _carry_out(session, actor, application, as_of, id_number, handover) -> str | None:
    kind = ApplicationKind(application.kind)
    if kind == ApplicationKind.OPEN:
        error = id_number_error(id_number)
        if error is None and hash_id_number(id_number) != application.id_number_hash:
            error = FieldError("id_number", "mismatch", "身份证号与申请表不符")
        if error is not None:
            raise InvalidInput(error.message, errors=[error])
        generated = generate_password()
        row = open_user(
            session, actor=actor, username=application.username or "", full_name=application.full_name,
            role=application.role, org_unit_id=application.org_unit_id, password=generated,
            id_number=id_number, position=application.position, phone=application.phone, as_of=as_of,
        )
        application.user_id = row.id
        return generated
    if kind == ApplicationKind.REVOKE:
        revoke_user(session, actor=actor, user_id=application.user_id, as_of=as_of, handover=handover)
        return None
    changes = {"full_name": application.full_name, "role": application.role,
               "org_unit_id": application.org_unit_id, "position": application.position,
               "phone": application.phone}
    change_user(session, actor=actor, user_id=application.user_id, changes=changes, as_of=as_of,
                handover=handover)
    return None
