"""A frozen monthly report's PDF and XLSX, rendered once and served from the file store.

A countersigned or sent version never changes (its figures carry their SHA-256, its
signatures are final), so its renderings are kept under `<files_dir>/reports/`, named by
region, month, version, status and digest: sending a countersigned report (which adds the
sending date) makes a new name, and nothing else ever does. Drafts and live figures are
rendered on every request, as they change.
"""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from workflows.reporting.reads import ReportView

from .report_pdf import monthly_report_pdf
from .report_xlsx import monthly_report_xlsx

RENDERERS: dict[str, Callable[[ReportView], bytes]] = {
    "pdf": monthly_report_pdf,
    "xlsx": monthly_report_xlsx,
}


def stored_path(files_dir: Path, view: ReportView, fmt: str) -> Path:
    status = view.status.value if view.status else "live"
    name = f"{view.slug}-{status}-{view.figures_sha256[:16]}.{fmt}"
    return Path(files_dir) / "reports" / name


def report_file(view: ReportView, fmt: str, *, files_dir: Path) -> bytes:
    """The rendering of `view` in `fmt` ("pdf" or "xlsx"): from storage when frozen."""
    render = RENDERERS[fmt]
    if not view.frozen:
        return render(view)
    path = stored_path(files_dir, view, fmt)
    if path.exists():
        return path.read_bytes()
    body = render(view)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a concurrent reader sees the old state or the whole file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".render-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return body
