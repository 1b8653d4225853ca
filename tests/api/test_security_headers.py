"""Every answer carries the security headers; HTML pages a CSP that only warnflow's own files
satisfy; /docs and /redoc load without any outside address."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "forms" / "templates" / "pages"


def test_wang_fang_s_login_page_forbids_scripts_from_anywhere_but_warnflow(client):
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'self'")
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"


def test_api_answers_are_never_stored(world, client, login):
    me = client.get("/api/v1/me", headers=login("wang_fang"))
    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    assert me.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in me.headers
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"


def test_no_page_template_has_an_inline_script_or_event_handler():
    """script-src 'self' would silently stop them."""
    offending = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offending.append(template.name)
    assert offending == []


def test_docs_and_redoc_load_from_warnflow_alone(client):
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "content-security-policy" in page.headers
        assert "http://" not in page.text and "https://" not in page.text and "//" not in page.text.replace(
            "<!DOCTYPE html>", ""), path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), path
        for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            loaded = client.get(asset)
            assert loaded.status_code == 200 and loaded.content, asset
    assert "SwaggerUIBundle" in client.get("/static/swagger-init.js").text
