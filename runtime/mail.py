"""The outbox as the job runtime runs it: with the monthly report's files from forms/
(forms.report_files, the one place that renders a report and keeps a frozen one) handed to
the e-mail transport (notifications may not import forms; both sit below runtime)."""

from datetime import datetime

from sqlalchemy.engine import Engine

from models.settings import Settings
from notifications import outbox
from notifications.attachments import ReportAttachments
from workflows.reporting.reads import ReportView

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_file(view: ReportView, fmt: str, settings: Settings) -> bytes:
    # Imported on the first mail that carries a report: WeasyPrint takes seconds to load and
    # a worker that sends only robot posts and inbox items never needs it.
    from forms.report_files import report_file

    return report_file(view, fmt, files_dir=settings.files_dir)


REPORT_ATTACHMENTS = ReportAttachments(_report_file, {"pdf": PDF, "xlsx": XLSX})


def dispatch_notifications(engine: Engine, *, as_of: datetime) -> outbox.DispatchReport:
    """Send what is due in the notification outbox, monthly reports attached as PDF and XLSX."""
    return outbox.drain(engine, as_of=as_of, attachments=REPORT_ATTACHMENTS)
