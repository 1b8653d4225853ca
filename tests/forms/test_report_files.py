"""A countersigned or sent monthly report's PDF and XLSX are rendered once and then served
from the file store; a draft is rendered on every request. 安县's November report: He Min
countersigns it, Qian Li sends it (the sending date makes one more rendering), Xu Qing at
the province downloads it."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from forms import report_files
from forms.report_files import report_file, stored_path
from models import MonthlyReport, Region
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november
from workflows.reporting.chain import ReportEvent, report_transition
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.reads import read_report

AT = DRAFT_AT + timedelta(hours=1)


@pytest.fixture
def anxian(session, world):
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    return session.execute(sa.select(MonthlyReport).where(
        MonthlyReport.region_id == world.regions["anxian"].id)).scalar_one()  # fmt: skip


@pytest.fixture
def renders(monkeypatch):
    """How many times each format was actually rendered."""
    counted = {"pdf": 0, "xlsx": 0}
    for fmt, render in list(report_files.RENDERERS.items()):
        def counting(view, render=render, fmt=fmt):
            counted[fmt] += 1
            return render(view)
        monkeypatch.setitem(report_files.RENDERERS, fmt, counting)
    return counted


def step(session, world, report, event, who):
    session.refresh(report)
    report_transition(session, report_id=report.id, event=event, actor=world.actors[who],
                      version=report.lock_version, as_of=AT)  # fmt: skip


def view(session, world):
    region = session.get(Region, world.regions["anxian"].id)
    return read_report(session, region=region, month=MONTH, as_of=AT)


def test_a_frozen_version_is_rendered_once(session, world, anxian, renders, tmp_path):
    draft = view(session, world)
    assert not draft.frozen
    report_file(draft, "pdf", files_dir=tmp_path)
    report_file(draft, "pdf", files_dir=tmp_path)
    assert renders["pdf"] == 2 and not (tmp_path / "reports").exists()

    for who in ("li_na", "chen_jie", "qian_li"):
        step(session, world, anxian, ReportEvent.CONFIRM_PART, who)
    step(session, world, anxian, ReportEvent.COMPILE, "qian_li")
    step(session, world, anxian, ReportEvent.COUNTERSIGN, "he_min")
    signed = view(session, world)
    assert signed.frozen
    first = report_file(signed, "pdf", files_dir=tmp_path)
    again = report_file(view(session, world), "pdf", files_dir=tmp_path)
    assert first == again and renders["pdf"] == 3
    assert stored_path(tmp_path, signed, "pdf").read_bytes() == first
    for _ in range(2):
        report_file(view(session, world), "xlsx", files_dir=tmp_path)
    assert renders["xlsx"] == 1

    step(session, world, anxian, ReportEvent.SEND, "qian_li")
    sent = view(session, world)
    assert stored_path(tmp_path, sent, "pdf") != stored_path(tmp_path, signed, "pdf")
    report_file(sent, "pdf", files_dir=tmp_path)
    report_file(view(session, world), "pdf", files_dir=tmp_path)
    assert renders["pdf"] == 4
    assert sorted(p.suffix for p in (tmp_path / "reports").iterdir()) == [".pdf", ".pdf", ".xlsx"]
