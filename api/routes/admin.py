"""Administration (/api/v1/admin/...): users (read, e-mail, password, lock; accounts themselves
are opened, changed and revoked by application), rules, calendar overrides, whitelist, routing.

Administrators only, and administrators never reach case routes (separation of duties).
"""


from fastapi import APIRouter, Depends, Response

from models.enums import Level, Role, RuleCategory, WarningType, WhitelistKind
from workflows.admin import calendar as admin_calendar
from workflows.admin import notice as admin_notice
from workflows.admin import rules as admin_rules
from workflows.admin import users as admin_users
from workflows.admin.users import UserRow
from workflows.core.clock import now_utc
from workflows.core.roles import ADMINS
from workflows.intake import routing as intake_routing
from workflows.intake import whitelist as intake_whitelist
from workflows.intake.routing import RouteRow
from workflows.intake.whitelist import WhitelistRow

from ..deps import CurrentActor, SessionDep, allow
from ..params import Id, IsoDate, Year
from .admin_schemas import (
    CalendarChangeOut,
    CalendarDayIn,
    CalendarDayOut,
    NoticeIn,
    NoticeOut,
    PasswordReset,
    PasswordResetDone,
    RouteIn,
    RuleChange,
    RuleCreate,
    RuleOut,
    UserEmailChange,
    WhitelistChange,
    WhitelistIn,
)

router = APIRouter(prefix="/admin", tags=["系统管理"])

# -- users ------------------------------------------------------------------------------


@router.get("/users", response_model=list[UserRow], summary="用户列表",
            dependencies=[Depends(allow(ADMINS))])
def list_users(actor: CurrentActor, session: SessionDep, region: str | None = None,
               role: Role | None = None, active: bool | None = None, q: str | None = None):
    rows = admin_users.list_users(session, actor=actor, region=region, role=role, active=active, q=q)
    return rows


@router.get("/users/{user_id}", response_model=UserRow, summary="查看账户",
            dependencies=[Depends(allow(ADMINS))])
def get_user(user_id: Id, actor: CurrentActor, session: SessionDep):
    return admin_users.get_user(session, actor=actor, user_id=user_id)


# Opening, changing (name, role, unit, position, phone) and revoking an account go by
# application (/api/v1/account-applications); the administrator only keeps the e-mail address
# that notices are sent to, which is no part of annex 3's form.
@router.patch("/users/{user_id}", response_model=UserRow, summary="修改账户电子邮箱",
              dependencies=[Depends(allow(ADMINS))])
def change_user_email(user_id: Id, body: UserEmailChange, actor: CurrentActor, session: SessionDep):
    return admin_users.change_user(session, actor=actor, user_id=user_id,
                                   changes=body.model_dump(exclude_unset=True), as_of=now_utc())


@router.post("/users/{user_id}/password", response_model=PasswordResetDone, summary="重置密码",
             dependencies=[Depends(allow(ADMINS))])
def reset_password(user_id: Id, body: PasswordReset, actor: CurrentActor, session: SessionDep):
    generated = admin_users.reset_password(session, actor=actor, user_id=user_id,
                                           password=body.password, as_of=now_utc())
    return PasswordResetDone(generated_password=generated)


@router.post("/users/{user_id}/unlock", response_model=UserRow, summary="解除登录锁定",
             dependencies=[Depends(allow(ADMINS))])
def unlock_user(user_id: Id, actor: CurrentActor, session: SessionDep):
    return admin_users.unlock_user(session, actor=actor, user_id=user_id, as_of=now_utc())


# -- rules ------------------------------------------------------------------------------


@router.get("/rules", response_model=list[RuleOut], summary="规则列表",
            dependencies=[Depends(allow(ADMINS))])
def list_rules(session: SessionDep, category: RuleCategory | None = None, level: Level | None = None,
               active: bool | None = None, q: str | None = None):
    rules = admin_rules.list_rules(session, category=category, level=level, active=active, q=q)
    return [RuleOut.model_validate(r) for r in rules]


@router.post("/rules", response_model=RuleOut, status_code=201, summary="新增规则",
             dependencies=[Depends(allow(ADMINS))])
def create_rule(body: RuleCreate, actor: CurrentActor, session: SessionDep):
    rule = admin_rules.create_rule(session, actor=actor, values=body.model_dump(exclude_unset=True),
                                   as_of=now_utc())
    return RuleOut.model_validate(rule)


@router.get("/rules/{rule_id}", response_model=RuleOut, summary="查看规则",
            dependencies=[Depends(allow(ADMINS))])
def get_rule(rule_id: Id, session: SessionDep):
    return RuleOut.model_validate(admin_rules.get_rule(session, rule_id=rule_id))


@router.patch("/rules/{rule_id}", response_model=RuleOut, summary="修改规则",
              dependencies=[Depends(allow(ADMINS))])
def change_rule(rule_id: Id, body: RuleChange, actor: CurrentActor, session: SessionDep):
    rule = admin_rules.change_rule(session, actor=actor, rule_id=rule_id,
                                   changes=body.model_dump(exclude_unset=True), as_of=now_utc())
    return RuleOut.model_validate(rule)


# -- calendar overrides -----------------------------------------------------------------


@router.get("/calendar", response_model=list[CalendarDayOut], summary="工作日历调整",
            dependencies=[Depends(allow(ADMINS))])
def list_calendar(session: SessionDep, year: Year | None = None):
    return [CalendarDayOut.model_validate(d) for d in admin_calendar.list_calendar_overrides(session, year=year)]


@router.post("/calendar/notice", response_model=NoticeOut, summary="按国务院办公厅通知录入全年节假日",
             description="保存时在办案件的办理期限随之重新计算。",
             dependencies=[Depends(allow(ADMINS))])
def import_notice(body: NoticeIn, actor: CurrentActor, session: SessionDep):
    notice = admin_notice.parse_notice(body.notice)
    replaced = len(admin_notice.existing_overrides(session, notice))
    moved = 0
    if body.save:
        moved = admin_notice.apply_notice(session, actor=actor, notice=notice, as_of=now_utc()).cases_replanned
    return NoticeOut(year=notice.year, items=list(notice.items), days=list(notice.entries),
                     holidays=len(notice.holidays), workdays=len(notice.workdays),
                     warnings=list(notice.warnings), saved=body.save, replaced=replaced,
                     cases_replanned=moved)  # fmt: skip


@router.put("/calendar/{day}", response_model=CalendarChangeOut, summary="设定节假日或调休上班日",
            description="在办案件的办理期限随之重新计算（案件时间线记录“节假日调整”）。",
            dependencies=[Depends(allow(ADMINS))])
def set_calendar_day(day: IsoDate, body: CalendarDayIn, actor: CurrentActor, session: SessionDep):
    change = admin_calendar.set_calendar_day(session, actor=actor, day=day, kind=body.kind,
                                             name=body.name, as_of=now_utc())
    return CalendarChangeOut.model_validate({
        **CalendarDayOut.model_validate(change.day).model_dump(),
        "cases_replanned": change.replanned.moved,
        "escalations_withdrawn": change.replanned.withdrawn,
    })


@router.delete("/calendar/{day}", status_code=204, summary="取消日历调整",
               dependencies=[Depends(allow(ADMINS))])
def unset_calendar_day(day: IsoDate, actor: CurrentActor, session: SessionDep) -> Response:
    admin_calendar.unset_calendar_day(session, actor=actor, day=day, as_of=now_utc())
    return Response(status_code=204)


# -- whitelist --------------------------------------------------------------------------


@router.get("/whitelist", response_model=list[WhitelistRow], summary="监控白名单",
            dependencies=[Depends(allow(ADMINS))])
def list_whitelist(session: SessionDep, kind: WhitelistKind | None = None, active: bool | None = None,
                   q: str | None = None):
    return intake_whitelist.list_whitelist(session, kind=kind, active=active, q=q)


@router.post("/whitelist", response_model=WhitelistRow, status_code=201, summary="加入白名单",
             dependencies=[Depends(allow(ADMINS))])
def add_whitelist_entry(body: WhitelistIn, actor: CurrentActor, session: SessionDep):
    row = intake_whitelist.add_whitelist_entry(session, actor=actor, as_of=now_utc(), **body.model_dump())
    return row


@router.get("/whitelist/{entry_id}", response_model=WhitelistRow, summary="查看白名单条目",
            dependencies=[Depends(allow(ADMINS))])
def get_whitelist_entry(entry_id: Id, session: SessionDep):
    return intake_whitelist.get_whitelist_entry(session, entry_id=entry_id)


@router.patch("/whitelist/{entry_id}", response_model=WhitelistRow, summary="撤销或恢复白名单条目",
              dependencies=[Depends(allow(ADMINS))])
def change_whitelist_entry(entry_id: Id, body: WhitelistChange, actor: CurrentActor, session: SessionDep):
    row = intake_whitelist.set_whitelist_entry_active(session, actor=actor, entry_id=entry_id,
                                                 active=body.is_active, as_of=now_utc())
    return row


# -- routing table ----------------------------------------------------------------------


@router.get("/routing", response_model=list[RouteRow], summary="预警类型与整改处室对应表",
            dependencies=[Depends(allow(ADMINS))])
def list_routes(session: SessionDep):
    return intake_routing.list_routes(session)


@router.put("/routing/{warning_type}", response_model=RouteRow, summary="修改预警类型的整改处室",
            dependencies=[Depends(allow(ADMINS))])
def set_route(warning_type: WarningType, body: RouteIn, actor: CurrentActor, session: SessionDep):
    row = intake_routing.set_route(session, actor=actor, warning_type=warning_type, org_kind=body.org_kind,
                                as_of=now_utc())
    return row
