"""What every printed document shares: the templates under forms/templates/pdf/ (Jinja2,
autoescaped: whatever users typed prints as text), one font configuration, stylesheets by
name, and no network (a document never needs anything from outside)."""

from pathlib import Path

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .formatting import register_filters

TEMPLATES = Path(__file__).parent / "templates" / "pdf"
FONTS = FontConfiguration()


class NoNetwork(URLFetcher):
    """Refuse every URL (no network, no files): templates and stylesheets come in as strings."""

    def fetch(self, url, headers=None):
        raise ValueError(f"external resources are not allowed in printed documents: {url[:80]}")


def template_environment() -> jinja2.Environment:
    return register_filters(
        jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )


def stylesheet(name: str) -> CSS:
    return CSS(string=(TEMPLATES / name).read_text("utf-8"), font_config=FONTS)


def layout(html: str, css: CSS):
    """The laid-out document (pages can be counted before writing it)."""
    return HTML(string=html, base_url=str(TEMPLATES), url_fetcher=NoNetwork()).render(
        stylesheets=[css], font_config=FONTS
    )
