"""Official documents printed as A4 PDFs: the account application form (annex 3) and the
oversight papers (督查通知书, 督查报告, 约谈通知书, 约谈记录, 通报).

Each is one Jinja2 template under forms/templates/pdf/ (autoescaped: whatever users typed
prints as text) on one shared stylesheet, laid out by WeasyPrint with no network access.
Callers pass plain values; scope is the caller's business.
"""

from pathlib import Path
from typing import Any

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .formatting import register_filters

TEMPLATES = Path(__file__).parent / "templates" / "pdf"


class _NoNetwork(URLFetcher):
    def fetch(self, url, headers=None):
        raise ValueError(f"external resources are not allowed in official documents: {url[:80]}")


_env = register_filters(
    jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
_fonts = FontConfiguration()
_css = CSS(string=(TEMPLATES / "official.css").read_text("utf-8"), font_config=_fonts)


def official_pdf(template: str, context: dict[str, Any]) -> bytes:
    html = _env.get_template(template).render(**context)
    return HTML(string=html, url_fetcher=_NoNetwork()).write_pdf(stylesheets=[_css], font_config=_fonts)
