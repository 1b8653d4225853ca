"""Every request body has a size limit (the import doors and attachments their own, any other
body `body_max_bytes`): 413 with the limit in Chinese.

Checked on the declared Content-Length before anything is read, so a 500 MB body is refused
at once; a body sent without a length is counted as it arrives and refused the same way.
"""

import json

from models.settings import Settings
from workflows.cases.attachments import MAX_FILES_PER_UPLOAD
from workflows.imports.files import size_text

IMPORT_PATHS = ("/api/v1/warnings/import",)
UPLOAD_PATHS = ("/api/v1/imports", "/imports")
# Room for the multipart envelope and the small form fields around the file.
_MULTIPART_SLACK = 1024 * 1024


_WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")


class BodyTooLarge(Exception):
    pass


def _limit(settings: Settings, path: str, content_type: bytes = b"") -> int:
    if path in IMPORT_PATHS:
        return settings.import_body_max_bytes
    if path in UPLOAD_PATHS:
        return settings.import_file_max_bytes + _MULTIPART_SLACK
    if content_type.lower().startswith(b"multipart/"):
        # Attachments: as many files as one upload may carry, each at most upload_max_bytes.
        return settings.upload_max_bytes * MAX_FILES_PER_UPLOAD + _MULTIPART_SLACK
    return settings.body_max_bytes


class BodyLimit:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in _WITH_BODY:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        limit = _limit(self.settings, scope.get("path", ""), headers.get(b"content-type", b""))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, limit)
        seen = 0
        exceeded = refused = False

        async def counted_receive():
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message):
            # Whatever the app answers to a body cut short (FastAPI says 400), the answer is 413.
            nonlocal refused
            if not exceeded:
                return await send(message)
            if not refused:
                refused = True
                await self._refuse(send, limit)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if not refused:
                await self._refuse(send, limit)

    async def _refuse(self, send, limit: int) -> None:
        body = json.dumps({
            "code": "too_large", "errors": [],
            "message": f"请求内容过大：上限 {size_text(limit)}，请分批发送或拆分文件",
        }, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})
