"""Xu Qing downloads 安县's countersigned November report twice: the second PDF comes from
the file store (the same bytes, no rendering)."""

from datetime import timedelta

import sqlalchemy as sa

from forms import report_files
from models import MonthlyReport
from tests.monthly_scenario import DRAFT_AT, build_november
from workflows.reporting.chain import ReportEvent, report_transition
from workflows.reporting.drafts import draft_monthly_reports

AT = DRAFT_AT + timedelta(hours=1)


def test_the_second_download_is_served_from_storage(session, world, client, login, settings,
                                                    monkeypatch):  # fmt: skip
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    report = session.execute(sa.select(MonthlyReport).where(
        MonthlyReport.region_id == world.regions["anxian"].id)).scalar_one()  # fmt: skip
    steps = [(ReportEvent.CONFIRM_PART, w) for w in ("li_na", "chen_jie", "qian_li")]
    for event, who in [*steps, (ReportEvent.COMPILE, "qian_li"), (ReportEvent.COUNTERSIGN, "he_min")]:
        session.refresh(report)
        report_transition(session, report_id=report.id, event=event, actor=world.actors[who],
                          version=report.lock_version, as_of=AT)  # fmt: skip
    session.commit()
    rendered = []
    pdf = report_files.RENDERERS["pdf"]
    monkeypatch.setitem(report_files.RENDERERS, "pdf", lambda v: rendered.append(v) or pdf(v))
    headers = login("xu_qing")
    url = f"/reports/monthly/{world.regions['anxian'].code}/2026-11/report.pdf"
    first = client.get(url, headers=headers)
    second = client.get(url, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.content.startswith(b"%PDF")
    assert len(rendered) == 1
    assert len(list((settings.files_dir / "reports").glob("*.pdf"))) == 1
