"""Imported warnings: their deadlines count from the moment the platform raised them (or, by
setting, from the import), and the warning type the platform sent stays on the case."""

from datetime import date, timedelta

import pytest

from models.enums import WarningType
from models.settings import get_settings
from tests.factories import NOW
from tests.workflows.imports.importfiles import table, warning_row, xlsx
from tests.workflows.imports.test_import_files import cases, upload
from workflows.cases.detail import get_case_detail

# Monday 7 Dec 2026, 09:00 in Shanghai: the file arrives two weeks after the warnings.
IMPORTED = NOW + timedelta(days=14)
# Raised Friday 20 Nov; ZC-001 gives 5 working days to verify.
ROWS = [
    warning_row("D-1", **{"预警产生时间": "2026-11-20 08:30:00", "预警类型": "企业风险"}),
    warning_row("D-2", **{"预警产生时间": "2026-11-20 08:30:00", "预警类型": ""}),
]


@pytest.fixture(autouse=True)
def import_moment(monkeypatch):
    monkeypatch.setattr("workflows.imports.runs.now_utc", lambda: IMPORTED)


@pytest.fixture
def counted_from(monkeypatch):
    def set_to(value: str) -> None:
        monkeypatch.setenv("WARNFLOW_IMPORT_DEADLINE_FROM", value)
        get_settings.cache_clear()

    yield set_to
    monkeypatch.delenv("WARNFLOW_IMPORT_DEADLINE_FROM", raising=False)
    get_settings.cache_clear()


def test_a_file_imported_late_keeps_the_deadline_the_warning_was_raised_with(session, world):
    run = upload(session, world, xlsx(table(ROWS)), "迟到的导出.xlsx")
    assert (run.state, run.created, run.refused) == ("done", 2, 0)
    first, second = cases(session, "D-")
    # 20 Nov + 5 working days, not 7 Dec + 5: already overdue when it lands.
    assert first.due_on == second.due_on == date(2026, 11, 27)
    assert first.entered_step_at == IMPORTED  # the step itself began when the case was opened


def test_the_setting_counts_an_imported_warnings_deadline_from_the_import(session, world, counted_from):
    counted_from("import_time")
    upload(session, world, xlsx(table(ROWS)), "迟到的导出.xlsx")
    assert {c.due_on for c in cases(session, "D-")} == {date(2026, 12, 14)}
    counted_from("tomorrow")
    with pytest.raises(ValueError, match="import_deadline_from"):
        get_settings()


def test_the_warning_type_the_platform_sent_is_kept_on_the_case(session, world):
    upload(session, world, xlsx(table(ROWS)), "导出.xlsx")
    sent, unsent = cases(session, "D-")
    assert (sent.warning_type, unsent.warning_type) == (WarningType.ENTERPRISE_RISK, None)
    detail = get_case_detail(session, actor=world.actors["li_na"], number=sent.number, as_of=IMPORTED)
    assert detail.warning_type == WarningType.ENTERPRISE_RISK and detail.rule.warning_type == WarningType.FUND_RISK
    assert get_case_detail(session, actor=world.actors["li_na"], number=unsent.number,
                           as_of=IMPORTED).warning_type is None  # fmt: skip
