"""The HTML pages (server-rendered Jinja2). Each module has one `router`; list it here."""

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    from . import auth, work

    return [auth.router, work.router]
