"""A sent monthly report reaches the configured address by e-mail, the countersigned PDF and
XLSX attached, through a real SMTP server (aiosmtpd) on localhost."""

from io import BytesIO

import sqlalchemy as sa
from openpyxl import load_workbook

from forms.report_files import report_file, stored_path
from models import MonthlyReport, Region
from models.notifications import Channel, Notification, NotificationStatus
from models.settings import Settings
from notifications.email import EmailTransport
from notifications.outbox import dispatch
from runtime.mail import REPORT_ATTACHMENTS
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november
from tests.notifications.conftest import settings_for
from workflows.reporting import effects as report_effects
from workflows.reporting.chain import ReportEvent, report_transition
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.reads import read_report

AT = DRAFT_AT


def _send_anxians_november(session, world) -> MonthlyReport:
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    report = session.execute(sa.select(MonthlyReport).where(
        MonthlyReport.region_id == world.regions["anxian"].id, MonthlyReport.month == MONTH
    )).scalar_one()  # fmt: skip
    steps = [("li_na", ReportEvent.CONFIRM_PART), ("chen_jie", ReportEvent.CONFIRM_PART),
             ("qian_li", ReportEvent.CONFIRM_PART), ("qian_li", ReportEvent.COMPILE),
             ("he_min", ReportEvent.COUNTERSIGN), ("qian_li", ReportEvent.SEND)]  # fmt: skip
    for who, event in steps:
        session.refresh(report)
        report_transition(session, report_id=report.id, event=event, actor=world.actors[who],
                          version=report.lock_version, as_of=AT)  # fmt: skip
    return report


def test_the_province_mailbox_gets_the_pdf_and_the_xlsx(
    session, world, sessions, smtp_server, monkeypatch, tmp_path
):
    monkeypatch.setattr(report_effects, "get_settings",
                        lambda: Settings(_env_file=None, report_email_to=["gkc@czt.example.cn"]))  # fmt: skip
    report = _send_anxians_november(session, world)
    smtp_server.start()
    settings = settings_for(smtp_server.port, var_dir=tmp_path)
    email = EmailTransport(settings, attachments=lambda spec, s: REPORT_ATTACHMENTS.render(session, spec, s))
    result = dispatch(sessions, as_of=AT, settings=settings, transports={Channel.EMAIL: email})
    assert result.sent == 1 and result.dead == 0
    [(recipients, mail)] = smtp_server.inbox.messages
    assert recipients == ["gkc@czt.example.cn"]
    assert mail["Subject"] == "安县2026年11月财政扶贫资金动态监控预警情况月报（第1版）"
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    pdf = files["安县2026年11月预警情况月报（第1版）.pdf"]
    xlsx = files["安县2026年11月预警情况月报（第1版）.xlsx"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF")
    book = load_workbook(BytesIO(xlsx.get_content()))
    assert len(book.sheetnames) >= 2
    body = mail.get_body(("plain",)).get_content()
    assert f"/reports/monthly/410121/2026-11?version={report.version}" in body
    # The attachments are the stored files of the sent version, byte for byte: the ones its
    # pages serve (forms.report_files), not a rendering of their own.
    view = read_report(session, region=session.get(Region, report.region_id), month=MONTH, as_of=AT,
                       version=report.version)
    assert view.frozen
    for fmt, part in (("pdf", pdf), ("xlsx", xlsx)):
        stored = stored_path(settings.files_dir, view, fmt)
        assert stored.exists(), fmt
        assert part.get_content() == stored.read_bytes() == report_file(view, fmt, files_dir=settings.files_dir)
    row = session.execute(
        sa.select(Notification).where(Notification.channel == Channel.EMAIL)
    ).scalar_one()
    session.refresh(row)
    assert row.status == NotificationStatus.SENT


def test_an_attachment_that_cannot_be_rendered_is_tried_again(
    session, world, sessions, smtp_server, monkeypatch
):
    monkeypatch.setattr(report_effects, "get_settings",
                        lambda: Settings(_env_file=None, report_email_to=["gkc@czt.example.cn"]))  # fmt: skip
    _send_anxians_november(session, world)
    smtp_server.start()
    settings = settings_for(smtp_server.port)

    def broken(spec, _):
        raise OSError("字体文件缺失")

    email = EmailTransport(settings, attachments=broken)
    assert (
        dispatch(sessions, as_of=AT, settings=settings, transports={Channel.EMAIL: email}).retrying
        == 1
    )
    assert smtp_server.inbox.messages == []


def test_without_renderers_a_mail_with_attachments_fails_for_good(
    session, world, sessions, smtp_server, monkeypatch
):
    """An outbox run that was given no renderers does not send a mail without its files."""
    monkeypatch.setattr(report_effects, "get_settings",
                        lambda: Settings(_env_file=None, report_email_to=["gkc@czt.example.cn"]))  # fmt: skip
    _send_anxians_november(session, world)
    smtp_server.start()
    settings = settings_for(smtp_server.port)
    result = dispatch(sessions, as_of=AT, settings=settings,
                      transports={Channel.EMAIL: EmailTransport(settings)})
    assert result.sent == 0 and result.dead == 1
    assert smtp_server.inbox.messages == []
    row = session.execute(sa.select(Notification).where(Notification.channel == Channel.EMAIL)).scalar_one()
    assert row.status == NotificationStatus.DEAD and "附件" in row.last_error
