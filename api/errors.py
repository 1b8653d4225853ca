"""One place that turns errors into answers: JSON with code, Chinese message and field paths."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from workflows.core.errors import DomainError, FieldError, InvalidInput, NotFound, OutOfScope

# Pydantic's error types, in words a civil servant understands.
_MESSAGES = {
    "missing": "必填",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "int_parsing": "应为整数",
    "decimal_parsing": "应为数字",
    "float_parsing": "应为数字",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "enum": "不是可选的值",
    "literal_error": "不是可选的值",
    "extra_forbidden": "不认识的字段",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "decimal_max_places": "小数位数过多（最多两位）",
    "decimal_max_digits": "数值过大",
    "list_too_long": "条目过多",
    "json_invalid": "不是有效的 JSON",
    "bool_parsing": "应为是或否",
    "bool_type": "应为是或否（true 或 false）",
}


def field_path(loc: tuple) -> str:
    # ("body", "slip", "conclusion") → "slip.conclusion"; query/path parameters keep their name.
    # A body that is not JSON at all is located by a character offset: it is the body's fault.
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return "body"
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "form") else [str(p) for p in loc]
    return ".".join(parts) or "body"


def validation_errors(errors) -> list[dict]:
    return [
        {"field": field_path(tuple(e.get("loc", ()))), "code": e.get("type", "invalid"),
         "message": _MESSAGES.get(e.get("type", ""), "填写有误")}
        for e in errors
    ]


def hidden_message(path: str) -> str:
    """The NotFound message of the resource a path reads (the same words workflows use)."""
    if "/attachments/" in path:
        return "附件不存在"
    if "/slips/" in path:
        return "处理单不存在"
    if path.startswith(("/api/v1/reports", "/reports")):
        return "月报不存在"
    return "预警不存在"


# The answers the framework gives itself (unknown path, wrong method, unreadable body), in the
# same {code, message, errors} as every other error.
_HTTP_ANSWERS = {
    400: ("bad_request", "请求内容无法解析，请检查请求体格式"),
    401: ("not_authenticated", "请先登录"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "接口不存在"),
    405: ("method_not_allowed", "不支持此操作（请求方法不被允许）"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
}


def http_error_body(status: int) -> dict:
    code, message = _HTTP_ANSWERS.get(status, ("http_error", "请求未能处理"))
    return {"code": code, "message": message, "errors": []}


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405


# Paths that are neither pages nor the JSON API: they keep FastAPI's plain answers.
_NOT_PAGES = ("/api/", "/static/", "/docs", "/openapi.json", "/redoc", "/healthz")


def page_renderer(request: Request):
    """The HTML error renderer when the request is for a page, else None."""
    render_page = getattr(request.app.state, "render_page_error", None)
    if render_page is None or request.url.path.startswith(_NOT_PAGES):
        return None
    return render_page


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_domain_error(request: Request, error: DomainError):
        # Pages answer in HTML (login redirect, error page); they register their renderer.
        render_page = page_renderer(request)
        if render_page is not None:
            return render_page(request, error)
        if isinstance(error, OutOfScope) and request.method in ("GET", "HEAD"):
            # Reading outside one's scope answers exactly as a missing record (no existence leak).
            message = hidden_message(request.url.path)
            return JSONResponse({"code": "not_found", "message": message, "errors": []}, 404)
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return JSONResponse(error.as_dict(), status_code=error.status, headers=headers)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException):
        render_page = page_renderer(request)
        if render_page is not None and error.status_code == 404:
            return render_page(request, NotFound("页面不存在"))
        if render_page is not None and error.status_code == 405:
            return render_page(request, MethodNotAllowed("不支持此操作"))
        headers = getattr(error, "headers", None)
        if error.status_code < 200 or error.status_code in (204, 304):
            return Response(status_code=error.status_code, headers=headers)
        return JSONResponse(http_error_body(error.status_code), status_code=error.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(request: Request, error: RequestValidationError):
        render_page = page_renderer(request)
        if render_page is not None:
            errors = [FieldError(**e) for e in validation_errors(error.errors())]
            return render_page(request, InvalidInput("提交的内容有误，请按提示修改", errors=errors))
        body = {"code": "invalid_input", "message": "提交的内容有误，请按提示修改",
                "errors": validation_errors(error.errors())}
        return JSONResponse(body, status_code=422)
