"""E-mail over SMTP (settings smtp_*), UTF-8 subject and body, optional attachments.

A row may name attachments in its payload (`attachments`: a list of specs such as
{"kind": "monthly_report", "report_id": 7, "format": "pdf"}); they are rendered when the
mail is sent, by the transport's loader (default: notifications/attachments.py).
"""

import smtplib
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from models.settings import Settings

from .base import Message, TransportError

# One attachment: (file name, content type, bytes).
Attachment = tuple[str, str, bytes]
AttachmentLoader = Callable[[dict, Settings], Attachment]


def build_email(
    message: Message, *, sender: str, attachments: Iterable[Attachment] = ()
) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = message.to or ""
    mail["Date"] = formatdate(localtime=False)
    # A stable id per outbox row lets a mail server drop the rare duplicate after a crash.
    mail["Message-ID"] = make_msgid(idstring=f"warnflow-{message.id}")
    text = message.body
    if message.url:
        text += f"\n\n查看详情：{message.url}\n"
    mail.set_content(text, charset="utf-8")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail


class EmailTransport:
    def __init__(self, settings: Settings, *, attachments: AttachmentLoader | None = None):
        self.settings = settings
        self.attachments = attachments

    def send(self, message: Message) -> None:
        s = self.settings
        if not message.to:
            raise TransportError("收件人没有电子邮件地址", permanent=True)
        if not s.smtp_host:
            # Waiting is right: the operator may configure SMTP before the last try.
            raise TransportError("未配置 SMTP 服务器（WARNFLOW_SMTP_HOST）", permanent=False)
        mail = build_email(message, sender=s.smtp_from, attachments=self._files(message))
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                    smtp.login(s.smtp_user, password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(f"SMTP 拒收收件人：{exc.recipients}",
                                 permanent=all(c >= 500 for c in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            raise TransportError(f"SMTP {exc.smtp_code}: {detail}",
                                 permanent=exc.smtp_code >= 500) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            # Connection refused, reset, timed out, disconnected: the server may come back.
            raise TransportError(f"SMTP 连接失败：{exc!r}", permanent=False) from exc

    def _files(self, message: Message) -> list[Attachment]:
        specs = (message.payload or {}).get("attachments") or []
        if not specs:
            return []
        if self.attachments is None:
            # Whoever runs the outbox hands the renderers in (runtime/mail.py); without them a
            # mail that names attachments cannot be built, and trying again would not help.
            raise TransportError("未配置附件生成，无法发送带附件的邮件", permanent=True)
        try:
            return [self.attachments(spec, self.settings) for spec in specs]
        except TransportError:
            raise
        except Exception as exc:  # a renderer failing is worth another try later
            raise TransportError(f"附件生成失败：{exc!r}", permanent=False) from exc
