"""The outbox as the job runtime runs it: with the monthly report's renderers from forms/
handed to the e-mail transport (notifications may not import forms; both sit below runtime)."""

from datetime import datetime

from sqlalchemy.engine import Engine

from notifications import outbox
from notifications.attachments import ReportAttachments
from workflows.reporting.reads import ReportView

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pdf(view: ReportView) -> bytes:
    # Imported on the first mail that carries a PDF: WeasyPrint takes seconds to load and a
    # worker that sends only robot posts and inbox items never needs it.
    from forms.report_pdf import monthly_report_pdf

    return monthly_report_pdf(view)


def _xlsx(view: ReportView) -> bytes:
    from forms.report_xlsx import monthly_report_xlsx

    return monthly_report_xlsx(view)


REPORT_ATTACHMENTS = ReportAttachments({"pdf": (PDF, _pdf), "xlsx": (XLSX, _xlsx)})


def dispatch_notifications(engine: Engine, *, as_of: datetime) -> outbox.DispatchReport:
    """Send what is due in the notification outbox, monthly reports attached as PDF and XLSX."""
    return outbox.drain(engine, as_of=as_of, attachments=REPORT_ATTACHMENTS)
