"""Logging in for programs (OAuth2 password form → bearer JWT) and who am I."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from models import OrgUnit, Region, User
from models.enums import Role
from workflows.admin.auth import authenticate, change_own_password, log_out
from workflows.core.clock import now_utc
from workflows.core.roles import EVERYONE

from ..deps import CurrentActor, SessionDep, SettingsDep, allow
from ..security import create_token

router = APIRouter(tags=["登录"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    role_label: str
    org_unit: dict
    region: dict
    must_change_password: bool = Field(description="正在使用一次性密码：须先修改密码（POST /auth/password）")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(description="当前密码（含管理员重置的一次性密码）")
    new_password: str = Field(description="新密码：至少 8 位，同时包含字母和数字，且不同于当前密码")


@router.post("/auth/token", response_model=Token, summary="登录，取得访问令牌")
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    now = now_utc()
    client = request.client.host if request.client else ""
    outcome = authenticate(session, username=form.username, password=form.password, as_of=now,
                           client=client)
    if outcome.error is not None:
        # The failed attempt (and a lock) must be kept although the login is refused.
        session.commit()
        raise outcome.error
    token, expires_in = create_token(outcome.user.id, epoch=outcome.user.session_epoch or 0,
                                     settings=settings, now=now)
    return Token(access_token=token, expires_in=expires_in)


@router.get("/me", response_model=Me, summary="当前用户", dependencies=[Depends(allow(EVERYONE))])
def me(actor: CurrentActor, session: SessionDep) -> Me:
    user = session.get(User, actor.user_id)
    unit = session.get(OrgUnit, user.org_unit_id)
    region = session.get(Region, unit.region_id)
    return Me(
        id=user.id, username=user.username, full_name=user.full_name, role=user.role,
        role_label=Role(user.role).label,
        org_unit={"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind},
        region={"id": region.id, "code": region.code, "name": region.name, "level": region.level},
        must_change_password=user.must_change_password,
    )


@router.post("/auth/password", status_code=204, summary="修改本人密码",
             dependencies=[Depends(allow(EVERYONE))])
def change_password(body: PasswordChange, request: Request, actor: CurrentActor,
                    session: SessionDep) -> Response:
    change_own_password(session, user_id=actor.user_id, current_password=body.current_password,
                        new_password=body.new_password, as_of=now_utc(),
                        client=request.client.host if request.client else "")
    return Response(status_code=204)


@router.post("/auth/logout", status_code=204, summary="退出登录",
             description="结束本账户的全部会话：此前签发的所有令牌（各设备、各浏览器）立即失效。",
             dependencies=[Depends(allow(EVERYONE))])
def logout(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    log_out(session, user_id=actor.user_id, as_of=now_utc(),
            client=request.client.host if request.client else "")
    return Response(status_code=204)
