"""The OpenAPI document: every operation declares the error answers it may give, all in the one
{code, message, errors} schema api/errors.py writes, so a generated client can read them."""

from typing import Any

from fastapi import FastAPI

ERROR_STATUSES = {
    "400": "请求内容无法解析",
    "401": "未登录或登录已失效",
    "403": "无权进行此操作",
    "404": "不存在（或不在本人的管辖范围内）",
    "409": "与当前状态冲突（版本已变化、已被他人处理等）",
    "413": "请求内容过大",
    "422": "提交的内容有误（errors 逐项指出字段）",
    "423": "账户已锁定或记录已锁定",
    "429": "请求过于频繁",
}

ERROR_SCHEMAS: dict[str, Any] = {
    "FieldErrorOut": {
        "type": "object", "title": "FieldErrorOut",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": "string", "description": "出错的字段路径，如 slip.methods"},
            "code": {"type": "string", "description": "错误类别"},
            "message": {"type": "string", "description": "中文说明"},
        },
    },
    "ErrorOut": {
        "type": "object", "title": "ErrorOut",
        "required": ["code", "message", "errors"],
        "properties": {
            "code": {"type": "string", "description": "错误类别，如 invalid_input、not_found"},
            "message": {"type": "string", "description": "中文说明"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldErrorOut"}},
        },
    },
}

_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def with_error_answers(schema: dict) -> dict:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(ERROR_SCHEMAS)
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                # FastAPI's own 422 names its {"detail": …} schema; warnflow answers ErrorOut.
                responses[status] = {"description": description, "content": _ERROR_CONTENT}
    # Nothing answers FastAPI's validation schema any more.
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            # FastAPI's own document (it caches it on the app), then the error answers.
            app.openapi_schema = with_error_answers(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
