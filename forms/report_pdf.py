"""The monthly summary printed as an official A4 document (WeasyPrint, like forms/pdf.py).

Everything printed comes from the report's figures (frozen once countersigned), laid out by
forms/templates/pdf/monthly_report.html with inline SVG charts; no network, no files.
"""

from datetime import date, datetime
from pathlib import Path

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from workflows.reporting.reads import ReportView

from .formatting import register_filters
from .pdf import BLANK_DATE, _NoNetwork
from .report_charts import report_charts
from .report_tables import printable

TEMPLATES = Path(__file__).parent / "templates" / "pdf"


def _iso_cn(text: str) -> str:
    d = date.fromisoformat(text)
    return f"{d.year}年{d.month}月{d.day}日"


_env = register_filters(
    jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
_env.filters["iso_cn"] = _iso_cn
_fonts = FontConfiguration()
_css = CSS(string=(TEMPLATES / "monthly_report.css").read_text("utf-8"), font_config=_fonts)


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
    document = HTML(
        string=report_html(view), base_url=str(TEMPLATES), url_fetcher=_NoNetwork()
    ).render(stylesheets=[_css], font_config=_fonts)
    return document.write_pdf()
