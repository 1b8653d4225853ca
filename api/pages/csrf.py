"""CSRF protection for every form post.

A logged-in browser's token is an HMAC of its session cookie (the JWT) under the signing
key: it changes with every login and cannot be computed by another site. Before login
(the login form itself) the token is an HMAC of a random nonce kept in an HttpOnly cookie.
Requests carrying a bearer header need no token: another site cannot make a browser send one.
`CsrfForm` is the route dependency; it reads the posted form (Starlette caches it, so the
route reads the same one) and refuses a missing or wrong token with 403.
"""

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from workflows.core.errors import DomainError

from ..deps import SESSION_COOKIE

NONCE_COOKIE = "warnflow_csrf"
FIELD = "csrf_token"


class CsrfRefused(DomainError):
    code = "csrf_refused"
    status = 403


def _key(request: Request) -> bytes:
    return request.app.state.settings.signing_key().encode()


def _sign(request: Request, purpose: str, value: str) -> str:
    return hmac.new(_key(request), f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token to put in this page's forms."""
    session_cookie = request.cookies.get(SESSION_COOKIE)
    if session_cookie:
        return _sign(request, "session", session_cookie)
    nonce = request.cookies.get(NONCE_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return _sign(request, "nonce", nonce)


def remember_nonce(request: Request, response: Response) -> None:
    """Send the pre-login nonce cookie if this page made one."""
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce and request.cookies.get(NONCE_COOKIE) != nonce:
        settings = request.app.state.settings
        response.set_cookie(NONCE_COOKIE, nonce, httponly=True, samesite="lax",
                            secure=settings.secure_cookies, path="/")


def check_csrf(request: Request, token: str | None) -> None:
    """Accept the token of the session cookie or of the pre-login nonce; refuse anything else."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        # A program sending its own Authorization header: no ambient cookie to abuse.
        return
    expected = []
    if session_cookie := request.cookies.get(SESSION_COOKIE):
        expected.append(_sign(request, "session", session_cookie))
    if nonce := request.cookies.get(NONCE_COOKIE):
        expected.append(_sign(request, "nonce", nonce))
    token = token or ""
    if not token or not any(hmac.compare_digest(token, e) for e in expected):
        raise CsrfRefused("页面已过期，请刷新后重试")


async def read_form(request: Request) -> FormData:
    """The posted form (urlencoded or multipart); parsed once per request."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(read_form)]


async def csrf_protect(request: Request, form: PostedForm) -> None:
    value = form.get(FIELD)
    check_csrf(request, value if isinstance(value, str) else None)


CsrfForm = Depends(csrf_protect)
