"""The contract a generated client reads: every operation declares its error answers in one
schema, the bearer scheme is declared, and the framework's own errors answer in that schema."""

from api.openapi import ERROR_STATUSES

METHODS = ("get", "put", "post", "delete", "patch")
PUBLIC = {("/api/v1/auth/token", "post"), ("/api/v1/federation/reports", "post"), ("/healthz", "get")}


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_declares_every_error_answer_with_the_one_error_schema(client):
    schema = client.get("/openapi.json").json()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"code", "message", "errors"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    missing = []
    for path, method, operation in operations(schema):
        for status in ("400", "401", "403", "404", "409", "413", "422", "423", "429"):
            declared = operation["responses"].get(status, {})
            ref = declared.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if ref != "#/components/schemas/ErrorOut":
                missing.append(f"{method} {path} {status}")
    assert missing == []
    assert set(ERROR_STATUSES) == {"400", "401", "403", "404", "409", "413", "422", "423", "429"}


def test_the_bearer_scheme_is_declared_on_every_operation_that_needs_a_login(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/token 取得的 access_token"}
    unsecured = {(path, method) for path, method, operation in operations(schema)
                 if operation.get("security") != [{"bearer": []}]}
    assert unsecured == PUBLIC


def test_wang_fang_s_token_in_the_declared_scheme_opens_the_api(world, client, login):
    assert client.get("/api/v1/me", headers=login("wang_fang")).status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_the_framework_s_own_errors_answer_code_message_and_errors(world, client, login):
    wrong_method = client.put("/api/v1/auth/token")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"code": "method_not_allowed", "message": "不支持此操作（请求方法不被允许）",
                                   "errors": []}
    assert "POST" in wrong_method.headers["allow"]
    nowhere = client.get("/api/v1/nothing-here")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "not_found"
    malformed = client.patch("/api/v1/admin/whitelist/1", content=b"{not json",
                             headers=login("sun_hao") | {"content-type": "application/json"})
    assert malformed.status_code == 422
    assert malformed.json()["errors"] == [{"field": "body", "code": "json_invalid", "message": "不是有效的 JSON"}]
    unreadable = client.post("/api/v1/slips/1/attachments", content=b"--x\r\nnot a part",
                             headers=login("wang_fang") | {"content-type": "multipart/form-data; boundary=x"})
    assert unreadable.status_code in (400, 422)
    assert set(unreadable.json()) == {"code", "message", "errors"}
