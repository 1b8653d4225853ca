"""Files attached to e-mails, made when the mail is sent (notifications/email.py).

A monthly report's PDF and XLSX are the files the report pages serve: forms.report_files'
`report_file`, which renders a frozen (countersigned or sent) version once and serves it
from storage, so the attachment is byte for byte the document that was countersigned,
whenever the mail goes out. forms/ is a sibling this package may not import: whoever runs
the outbox (runtime/mail.py) hands that function in as a `ReportAttachments`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlmodel import Session

from models import MonthlyReport, Region
from models.db import get_engine
from models.settings import Settings
from workflows.core.clock import now_utc
from workflows.reporting.reads import ReportView, read_report

from .base import TransportError

# (the report as read, "pdf" or "xlsx", the settings) → the file's bytes.
ReportFile = Callable[[ReportView, str, Settings], bytes]


@dataclass(frozen=True)
class ReportAttachments:
    """Makes the attachments an outbox row names: `report_file` gives the bytes, and
    `content_types` says which formats there are ({"pdf": "application/pdf", ...})."""

    report_file: ReportFile
    content_types: Mapping[str, str]

    def __call__(self, spec: dict, settings: Settings) -> tuple[str, str, bytes]:
        """(file name, content type, bytes) for one attachment spec of an outbox row."""
        with Session(get_engine(settings.resolved_database_url)) as session:
            return self.render(session, spec, settings)

    def render(self, session: Session, spec: dict, settings: Settings) -> tuple[str, str, bytes]:
        """The same, read through a given session."""
        if spec.get("kind") != "monthly_report" or spec.get("format") not in self.content_types:
            raise TransportError(f"不认识的附件：{spec}", permanent=True)
        content_type = self.content_types[spec["format"]]
        report = session.get(MonthlyReport, int(spec["report_id"]))
        if report is None:
            raise TransportError("附件所属的月报不存在", permanent=True)
        region = session.get(Region, report.region_id)
        view = read_report(
            session, region=region, month=report.month, as_of=now_utc(), version=report.version
        )
        name = f"{region.name}{report.month.year}年{report.month.month}月预警情况月报（第{report.version}版）"
        return f"{name}.{spec['format']}", content_type, self.report_file(view, spec["format"], settings)
