"""/docs (Swagger UI) and /redoc with their files served by warnflow itself: no CDN, so the
documentation works on a network without internet access and under the pages' CSP."""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# The Swagger UI and ReDoc builds shipped in the fastapi-offline package.
ASSETS_DIR = str(files("fastapi_offline") / "static")
ASSETS_URL = "/docs-assets"

_SWAGGER = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} – 接口文档</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"><link rel="icon" href="{assets}/favicon.png">
</head><body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script><script src="/static/swagger-init.js"></script>
</body></html>"""

_REDOC = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} – 接口文档</title>
<link rel="icon" href="{assets}/favicon.png"></head><body>
<redoc spec-url="/openapi.json"></redoc><script src="{assets}/redoc.standalone.js"></script>
</body></html>"""


def install_docs(app: FastAPI) -> None:
    """Call on an app created with docs_url=None and redoc_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_SWAGGER.format(title=app.title, assets=ASSETS_URL))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC.format(title=app.title, assets=ASSETS_URL))
