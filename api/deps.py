"""Request dependencies: one transaction per request, the acting user, role checks.

Every route declares who may call it with `Allow(...)`; the authorization-matrix test reads
these declarations from the route table, so a new route cannot be left out of it.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from models.db import get_engine, session_scope, writer
from models.enums import Role
from models.settings import Settings
from workflows.admin.auth import PasswordChangeRequired
from workflows.core.actors import Actor, load_actor
from workflows.core.errors import DomainError, NotFound, RoleNotAllowed

from .security import read_token

SESSION_COOKIE = "warnflow_session"
# What a one-time password may still reach: changing it, who am I, logging out.
ONE_TIME_PASSWORD_PATHS = frozenset({"/api/v1/auth/password", "/api/v1/me", "/account/password", "/logout"})


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_session(request: Request, settings: SettingsDep) -> Iterator[Session]:
    """The request's one transaction: committed when the route returns, rolled back on error.
    A request that may write (not GET/HEAD/OPTIONS) is a writer (models.db.writer)."""
    engine = get_engine(settings.resolved_database_url)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        engine = writer(engine)
    with session_scope(engine) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is a failed request.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def bearer_or_cookie(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


# Declares the bearer scheme in the OpenAPI (Swagger's Authorize button); the token itself is
# read by bearer_or_cookie, which also accepts the pages' session cookie.
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer",
                           description="POST /api/v1/auth/token 取得的 access_token")


def get_actor(request: Request, session: SessionDep, settings: SettingsDep,
              _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None) -> Actor:
    token = bearer_or_cookie(request)
    claims = read_token(token, settings=settings) if token else None
    if claims is None:
        raise NotAuthenticated("请先登录")
    user_id, epoch = claims
    try:
        actor = load_actor(session, user_id)
    except NotFound:
        raise NotAuthenticated("账户不存在或已停用，请重新登录") from None
    if actor.session_epoch != epoch:
        raise NotAuthenticated("登录已失效（已退出、密码已修改或重置），请重新登录")
    if actor.must_change_password and request.url.path not in ONE_TIME_PASSWORD_PATHS:
        raise PasswordChangeRequired("您正在使用管理员重置的一次性密码，请先修改密码后再办理业务")
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


class Allow:
    """Route dependency: only these roles may call the route (403 otherwise)."""

    def __init__(self, *roles: Role):
        self.roles = frozenset(roles)

    def __call__(self, actor: CurrentActor) -> Actor:
        if actor.role not in self.roles:
            raise RoleNotAllowed("您的角色无权进行此操作")
        return actor

    def __repr__(self) -> str:
        return f"Allow({', '.join(sorted(self.roles))})"




def allow(roles: frozenset[Role]) -> Allow:
    return Allow(*roles)
