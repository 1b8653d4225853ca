"""Logging in and out in the browser: the JWT in an HttpOnly, SameSite=Lax cookie."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from forms.page_forms import errors_of
from models.users import User
from workflows.admin.auth import authenticate, change_own_password, log_out
from workflows.core.clock import now_utc
from workflows.core.errors import InvalidInput
from workflows.core.roles import EVERYONE

from ..deps import SESSION_COOKIE, CurrentActor, SessionDep, SettingsDep, allow
from ..security import create_token
from .csrf import CsrfForm, PostedForm
from .errors import safe_next
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


# Public: the login page is how one becomes somebody.
@router.get("/login")
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post("/login", dependencies=[CsrfForm])
def login(request: Request, form: PostedForm, session: SessionDep, settings: SettingsDep):
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    now = now_utc()
    outcome = authenticate(session, username=username, password=password, as_of=now,
                           client=_client(request))
    if outcome.error is not None:
        # The failed attempt (and a lock) is kept although the login is refused.
        session.commit()
        return render(
            request, "login.html",
            {"next": target, "username": username, "error": outcome.error.message},
            status_code=outcome.error.status,
        )
    token, expires_in = create_token(outcome.user.id, epoch=outcome.user.session_epoch or 0,
                                     settings=settings, now=now)
    if outcome.user.must_change_password:
        # A one-time password opens only the page that replaces it.
        target = "/account/password"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=expires_in, httponly=True, samesite="lax",
        secure=settings.secure_cookies, path="/",
    )
    return response


@router.post("/logout", dependencies=[Depends(allow(EVERYONE)), CsrfForm])
def logout(request: Request, actor: CurrentActor, session: SessionDep):
    log_out(session, user_id=actor.user_id, as_of=now_utc(), client=_client(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", dependencies=[Depends(allow(EVERYONE))])
def password_page(request: Request, actor: Viewer):
    return render(request, "account_password.html", {"forced": actor.must_change_password,
                                                     "errors": {}})


@router.post("/account/password", dependencies=[Depends(allow(EVERYONE)), CsrfForm])
def change_password(request: Request, actor: Viewer, session: SessionDep, form: PostedForm,
                    settings: SettingsDep):
    try:
        with session.begin_nested():
            change_own_password(
                session, user_id=actor.user_id, as_of=now_utc(), client=_client(request),
                current_password=str(form.get("current_password") or ""),
                new_password=str(form.get("new_password") or ""),
            )
    except InvalidInput as error:
        return render(request, "account_password.html",
                      {"forced": actor.must_change_password, "errors": errors_of(error),
                       "message": error.message}, status_code=error.status)
    # The new password ended every session, this one too: this browser gets a new one.
    user = session.get(User, actor.user_id)
    token, expires_in = create_token(user.id, epoch=user.session_epoch, settings=settings, now=now_utc())
    response = RedirectResponse("/?done=password_changed", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=expires_in, httponly=True, samesite="lax",
        secure=settings.secure_cookies, path="/",
    )
    return response
