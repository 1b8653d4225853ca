"""A frozen monthly report's PDF served from storage against rendering it each time.

    python bench/report_files.py [--runs 5] [--region 419000]

Loads the demo province (300 cases) into a temporary SQLite file, reads one region's report
(by default the province), treats it as countersigned (its figures and digest as stored),
and times `forms.report_files.report_file(view, "pdf")`: the first call renders and stores,
the following calls read the stored bytes. The bound measured beside it in the same run is
`forms.report_pdf.monthly_report_pdf(view)`, what every request cost before. Prints the
machine, the load average, every run and the medians.
"""

import argparse
import dataclasses
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path)
import sqlalchemy as sa
from common import machine, median
from sqlmodel import Session

from forms.report_files import report_file
from forms.report_pdf import monthly_report_pdf
from models import Region
from models.db import make_engine
from models.migrate import upgrade
from models.reports import ReportStatus
from workflows.core.calendar import local_date, previous_month
from workflows.demo import load_demo
from workflows.reporting.reads import read_report

SHOWN_AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--region", default="419000")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            load_demo(session, password="Bench-Passw0rd", as_of=SHOWN_AT)
            region = session.execute(sa.select(Region).where(Region.code == args.region)).scalar_one()
            view = read_report(session, region=region, month=previous_month(local_date(SHOWN_AT)),
                               as_of=SHOWN_AT)  # fmt: skip
        frozen = dataclasses.replace(view, status=ReportStatus.COUNTERSIGNED)
        assert frozen.frozen, "the report has no stored digest"
        files = Path(folder) / "files"
        print(f"data: demo province, 300 cases; {region.name}'s report of {view.month:%Y-%m}")
        rendering, stored = [], []
        for run in range(1, args.runs + 1):
            before = _load()
            start = time.perf_counter()
            size = len(monthly_report_pdf(frozen))
            rendering.append(time.perf_counter() - start)
            start = time.perf_counter()
            report_file(frozen, "pdf", files_dir=files)
            first = time.perf_counter() - start
            start = time.perf_counter()
            report_file(frozen, "pdf", files_dir=files)
            stored.append(time.perf_counter() - start)
            print(f"run {run}: rendering {rendering[-1]:.3f} s ({size:,} bytes), "
                  f"report_file {'first (renders, stores)' if run == 1 else 'again'} "
                  f"{first:.3f} s, from storage {stored[-1] * 1000:.2f} ms ({before})")  # fmt: skip
        print(f"rendering (the bound: every request before): median {median(rendering):.3f} s")
        print(f"from storage: median {median(stored) * 1000:.2f} ms")
        engine.dispose()
    print(_load())


if __name__ == "__main__":
    main()
