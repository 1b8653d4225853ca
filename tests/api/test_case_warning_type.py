"""The warning type the platform sent (预警类型) is shown on the case page and in the case JSON."""

import pytest

from tests.workflows.imports.importfiles import table, warning_row, xlsx
from tests.workflows.imports.test_import_files import cases, upload


@pytest.fixture
def world(world, session):
    session.commit()
    return world


def test_li_na_reads_the_type_the_platform_sent_and_the_rules_when_it_sent_none(client, login, session, world):
    rows = [warning_row("T-1", **{"预警类型": "企业风险"}), warning_row("T-2")]
    upload(session, world, xlsx(table(rows)), "导出.xlsx")
    sent, unsent = (c.number for c in cases(session, "T-"))
    body = client.get(f"/api/v1/cases/{sent}", headers=login("li_na")).json()
    assert (body["warning_type"], body["warning_type_label"]) == ("enterprise_risk", "企业风险")
    assert body["rule"]["warning_type"] == "fund_risk"
    assert client.get(f"/api/v1/cases/{unsent}", headers=login("li_na")).json()["warning_type"] is None
    from tests.api.test_pages_auth import page_login

    page_login(client, "li_na")
    assert "企业风险<span class=\"muted small\">（监控平台报送）" in client.get(f"/cases/{sent}").text
    assert "资金风险<span class=\"muted small\">（平台未报送，按规则）" in client.get(f"/cases/{unsent}").text
