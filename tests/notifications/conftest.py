"""Real receivers on localhost: an SMTP server (aiosmtpd) and a robot webhook (http.server)."""

import json
import socket
import threading
from contextlib import nullcontext
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from models.settings import Settings
from tests.api.conftest import app, client, login, settings  # noqa: F401  (the web app's fixtures)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server received, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, mail))
        return "250 OK"


class SMTPServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self.controller = None

    def start(self, handler=None):
        self.controller = Controller(handler or self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    """An SMTP server on a free port, not yet started (the test decides when it is up)."""
    server = SMTPServer(free_port())
    yield server
    server.stop()


def settings_for(smtp_port: int, **kw) -> Settings:
    return Settings(_env_file=None, smtp_host="127.0.0.1", smtp_port=smtp_port,
                    smtp_from="yujing@czj.example.cn", smtp_timeout_seconds=5,
                    webhook_timeout_seconds=2, public_base_url="https://yj.example.cn", **kw)


@pytest.fixture
def sessions(session):
    """The worker's session factory, sharing the test's rolled-back session."""
    return lambda: nullcontext(session)


class Robot:
    """A robot webhook receiver: records each POST and answers with `self.answer`."""

    def __init__(self):
        self.requests = []
        self.answer = (200, {"errcode": 0, "errmsg": "ok"})
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                robot.requests.append((self.path, json.loads(self.rfile.read(length))))
                status, body = robot.answer
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()
