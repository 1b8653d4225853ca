"""Domain errors on pages: a login redirect, or a Chinese error page with the right status.

Installed as `app.state.render_page_error`; api/errors.py calls it for every non-API path.
"""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from workflows.admin.auth import PasswordChangeRequired
from workflows.core.errors import DomainError, NotFound, OutOfScope

from ..deps import SESSION_COOKIE, NotAuthenticated
from .templating import render

_TITLES = {
    400: "无法办理",
    403: "无权访问",
    404: "页面不存在",
    409: "无法办理",
    422: "填写有误",
    423: "账户已锁定",
}


def safe_next(target: str | None) -> str:
    """Only a path on this site may be a redirect target (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    target = "/login"
    if request.method in ("GET", "HEAD") and request.url.path not in ("/", "/login"):
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?next=" + quote(path, safe="")
    response = RedirectResponse(target, status_code=303)
    # An expired or forged session cookie is of no further use.
    if request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def render_page_error(request: Request, error: DomainError) -> Response:
    if isinstance(error, NotAuthenticated):
        return login_redirect(request)
    if isinstance(error, PasswordChangeRequired):
        return RedirectResponse("/account/password", status_code=303)
    status, message = error.status, error.message
    if isinstance(error, OutOfScope | NotFound) and request.method in ("GET", "HEAD"):
        # Outside one's scope reads as "not there": no hint that the case exists.
        status, message = 404, "您要查看的内容不存在，或不在您的管辖范围内"
    return render(
        request,
        "error.html",
        {"title": _TITLES.get(status, "出错了"), "message": message, "status": status,
         "errors": error.errors},
        status_code=status,
    )
