"""Official documents printed as A4 PDFs: the account application form (annex 3) and the
oversight papers (督查通知书, 督查报告, 约谈通知书, 约谈记录, 通报).

Each is one Jinja2 template under forms/templates/pdf/ (autoescaped: whatever users typed
prints as text) on one shared stylesheet, laid out by WeasyPrint with no network access.
Callers pass plain values; scope is the caller's business.
"""

from typing import Any

from .weasy import layout, stylesheet, template_environment

_env = template_environment()
_css = stylesheet("official.css")


def official_pdf(template: str, context: dict[str, Any]) -> bytes:
    return layout(_env.get_template(template).render(**context), _css).write_pdf()
