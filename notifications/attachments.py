"""Files attached to e-mails, rendered when the mail is sent (notifications/email.py).

A monthly report's PDF and XLSX come from the renderers in forms/ (report_pdf, report_xlsx)
over the report's stored figures — frozen from countersigning on, so the attachment is the
document that was countersigned, whenever the mail goes out. The renderers are imported when
a mail needs them: the outbox does not load WeasyPrint for every robot message.
"""

import importlib

from sqlmodel import Session

from models import MonthlyReport, Region
from models.db import get_engine
from models.settings import Settings
from workflows.core.clock import now_utc
from workflows.reporting.reads import read_report

from .base import TransportError

FORMATS = {
    "pdf": ("application/pdf", "forms.report_pdf", "monthly_report_pdf"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "forms.report_xlsx",
        "monthly_report_xlsx",
    ),
}


def load_attachment(spec: dict, settings: Settings) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) for one attachment spec of an outbox row."""
    with Session(get_engine(settings.resolved_database_url)) as session:
        return render_attachment(session, spec)


def render_attachment(session: Session, spec: dict) -> tuple[str, str, bytes]:
    """The same, read through a given session."""
    if spec.get("kind") != "monthly_report" or spec.get("format") not in FORMATS:
        raise TransportError(f"不认识的附件：{spec}", permanent=True)
    content_type, module_name, function = FORMATS[spec["format"]]
    render = getattr(importlib.import_module(module_name), function)
    report = session.get(MonthlyReport, int(spec["report_id"]))
    if report is None:
        raise TransportError("附件所属的月报不存在", permanent=True)
    region = session.get(Region, report.region_id)
    view = read_report(
        session, region=region, month=report.month, as_of=now_utc(), version=report.version
    )
    name = f"{region.name}{report.month.year}年{report.month.month}月预警情况月报（第{report.version}版）"
    return f"{name}.{spec['format']}", content_type, render(view)
