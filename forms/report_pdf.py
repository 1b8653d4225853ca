"""The monthly summary printed as an official A4 document (WeasyPrint, like forms/pdf.py).

Everything printed comes from the report's figures (frozen once countersigned), laid out by
forms/templates/pdf/monthly_report.html with inline SVG charts; no network, no files.
"""

from datetime import date, datetime

from workflows.reporting.reads import ReportView

from .pdf import BLANK_DATE
from .report_charts import report_charts
from .report_tables import printable
from .weasy import layout, stylesheet, template_environment


def _iso_cn(text: str) -> str:
    d = date.fromisoformat(text)
    return f"{d.year}年{d.month}月{d.day}日"


_env = template_environment()
_env.filters["iso_cn"] = _iso_cn
_css = stylesheet("monthly_report.css")


def report_html(view: ReportView) -> str:
    figures = view.figures
    return _env.get_template("monthly_report.html").render(
        view=view,
        tables=printable(figures),
        charts=report_charts(figures),
        generated=datetime.fromisoformat(figures["generated_at"]),
        blank_date=BLANK_DATE,
    )


def monthly_report_pdf(view: ReportView) -> bytes:
    """The report as PDF bytes (as many A4 pages as its tables need, numbered)."""
    return layout(report_html(view), _css).write_pdf()
