"""Security headers on every answer.

HTML pages get a Content-Security-Policy that allows scripts only from warnflow itself (every
page script is a file under /static; no inline script, no CDN). Styles also allow inline
`style` attributes and `<style>` blocks: a few templates use them, and ReDoc writes its styles
at run time; inline CSS cannot run code, so this keeps every page as it looks without opening
a way to run script. JSON answers are never stored by a browser or proxy (they carry case and
payee data)."""

_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'")


_REPLACED = {b"x-content-type-options", b"referrer-policy"}
_REPLACED_API = _REPLACED | {b"cache-control"}


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_api = scope.get("path", "").startswith("/api/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                replaced = _REPLACED_API if is_api else _REPLACED
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                if is_api:
                    headers.append((b"cache-control", b"no-store"))
                content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", _CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
