"""The monthly summaries over the 1,000,000-case database: drafting every region's report,
and printing one report's PDF.

    python bench/reports.py [--url …/warnflow_bench] [--as-of 2026-12-01T09:00+08:00]
                            [--runs 3] [--region 410000]

Uses the database bench/generate.py made (schema as migrated by it). Each drafting run times
`draft_monthly_reports(session, as_of=…)` end to end for last month — the figures of every
county, city and the province from one pass over the month's cases, the report rows, their
parts and first events inserted — then ROLLS BACK, so the database is left as it was and
every run does the same work (create, not refresh). The PDF runs time
`forms.report_pdf.monthly_report_pdf` for one region's report (by default the province: the
largest tables — every city scored, the 50-line overdue list), after its figures are
computed once (timed separately). Prints the machine, the load average, every run and the
medians.
"""

import argparse
import os
import time
from datetime import datetime

import common  # noqa: F401  (puts the repository on sys.path)
import sqlalchemy as sa
from common import DEFAULT_URL, machine, median
from sqlmodel import Session

from forms.report_pdf import monthly_report_pdf
from models import Region
from models.db import make_engine
from workflows.core.calendar import local_date, previous_month
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.reads import read_report


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--as-of", default="2026-12-01T09:00:00+08:00",
                        help="the drafting moment (ISO, with offset); last month is reported")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--region", default="410000", help="region code of the PDF's report")
    args = parser.parse_args()
    as_of = datetime.fromisoformat(args.as_of)
    month = previous_month(local_date(as_of))
    engine = make_engine(args.url)
    print(machine())
    with Session(engine) as session:
        counts = session.execute(sa.text(
            "SELECT (SELECT count(*) FROM warning_case), (SELECT count(*) FROM case_event),"
            " (SELECT count(*) FROM slip),"
            " (SELECT count(*) FROM region WHERE level IN ('province', 'city', 'county'))"
        )).one()  # fmt: skip
    print(f"data: {counts[0]:,} cases, {counts[1]:,} events, {counts[2]:,} slips, "
          f"{counts[3]} regions with a monthly report; month {month:%Y-%m}, as of {as_of}")  # fmt: skip

    drafting = []
    for run in range(1, args.runs + 1):
        with Session(engine) as session:
            before = _load()
            start = time.perf_counter()
            result = draft_monthly_reports(session, as_of=as_of, only_first_working_day=False)
            session.flush()
            elapsed = time.perf_counter() - start
            session.rollback()
        drafting.append(elapsed)
        print(f"draft run {run}: {elapsed:.2f} s — {result.summary} ({before})")
    print(f"drafting all regions: median {median(drafting):.2f} s (target < 10 s)")

    with Session(engine) as session:
        region = session.exec(sa.select(Region).where(Region.code == args.region)).scalar_one()
        start = time.perf_counter()
        view = read_report(session, region=region, month=month, as_of=as_of)
        figures_s = time.perf_counter() - start
        print(f"figures of {region.name} ({'live' if view.live else 'saved'}): {figures_s:.2f} s; "
              f"overdue list {view.figures['overdue_list']['shown']} of "
              f"{view.figures['overdue_list']['total']:,}, {len(view.figures['children'])} "
              f"child regions")  # fmt: skip
        pdf = []
        size = 0
        for run in range(1, args.runs + 1):
            before = _load()
            start = time.perf_counter()
            size = len(monthly_report_pdf(view))
            pdf.append(time.perf_counter() - start)
            print(f"pdf run {run}: {pdf[-1]:.2f} s, {size:,} bytes ({before})")
        print(f"one report's PDF: median {median(pdf):.2f} s (target < 5 s)")
        session.rollback()
    print(_load())


if __name__ == "__main__":
    main()
