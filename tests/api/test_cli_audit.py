"""Every administrative act at the command line leaves the same audit row as through the
admin API, naming the operator by their OS account (the CLI has no login).

Sun Hao, at the server's console, opens Li Na's account, resets her password and revokes it;
declares a holiday and withdraws it; makes the federation key and registers the province.
"""

import getpass

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from models import AuditEvent, OrgUnit, Region
from models.db import get_engine, session_scope
from models.enums import AuditKind, OrgKind, RegionLevel
from models.migrate import upgrade
from models.settings import get_settings
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database, require_postgres
from tests.workflows.federation.test_exchange import Pair

runner = CliRunner()
OPERATOR = getpass.getuser()


def warnflow(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(params=BACKENDS)
def console_db(request, tmp_path, monkeypatch):
    """A migrated database of its own (SQLite file or a new PostgreSQL database) where the CLI,
    which commits, looks; with Anxian county and its agricultural-finance section."""
    if request.param == "postgresql":
        require_postgres()
        url = create_pg_database("warnflow_cli_audit")
    else:
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("WARNFLOW_DATABASE_URL", url)
    monkeypatch.setenv("WARNFLOW_DEPLOYMENT_ID", "anxian-county")
    get_settings.cache_clear()
    with session_scope(get_engine(url)) as session:
        county = Region(code="410121", name="安县", level=RegionLevel.COUNTY, path="/410121/")
        session.add(county)
        session.flush()
        session.add(OrgUnit(code="410121-NC", name="安县财政局农财股", kind=OrgKind.AGRI_FINANCE,
                            region_id=county.id))
    yield url
    get_settings.cache_clear()
    get_engine(url).dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


def audit_rows(url: str, kind: AuditKind) -> list[AuditEvent]:
    with session_scope(get_engine(url)) as session:
        return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)
                                    .order_by(AuditEvent.id)))


def by_the_operator(row: AuditEvent) -> bool:
    return (row.actor_id, row.client, row.data.get("operator")) == (None, "cli", OPERATOR)


def test_opening_resetting_and_revoking_li_nas_account_at_the_console_is_audited(console_db):
    warnflow("users", "add", "li_na", "--name", "李娜", "--role", "handler", "--unit", "410121-NC",
             "--id-number", "410121198503120072",
             input="Spring-2026!\nSpring-2026!\n")
    [opened] = audit_rows(console_db, AuditKind.USER_CREATED)
    assert by_the_operator(opened) and opened.username == "li_na"
    assert opened.data["role"] == "handler"

    warnflow("users", "set-password", "li_na", input="Summer-2026!\nSummer-2026!\n")
    [reset] = audit_rows(console_db, AuditKind.PASSWORD_RESET)
    assert by_the_operator(reset) and reset.user_id == opened.user_id
    assert reset.data["generated"] is False

    warnflow("users", "revoke", "li_na")
    [revoked] = audit_rows(console_db, AuditKind.USER_REVOKED)
    assert by_the_operator(revoked) and revoked.username == "li_na"


def test_a_refused_account_leaves_no_audit_row(console_db):
    result = runner.invoke(app, ["users", "add", "li_na", "--name", "李娜", "--role", "handler",
                                 "--unit", "NOPE", "--id-number", "410121198503120072"], input="Spring-2026!\nSpring-2026!\n")
    assert result.exit_code != 0 and "unit：单位编码 NOPE 不存在" in result.output
    assert audit_rows(console_db, AuditKind.USER_CREATED) == []


def test_declaring_and_withdrawing_a_holiday_at_the_console_is_audited(console_db):
    warnflow("calendar", "set", "2026-11-24", "holiday", "--name", "防汛调休")
    warnflow("calendar", "unset", "2026-11-24")
    rows = audit_rows(console_db, AuditKind.CALENDAR_CHANGED)
    assert [(r.data["action"], r.data["day"], r.data["day_kind"]) for r in rows] == [
        ("set", "2026-11-24", [None, "holiday"]), ("unset", "2026-11-24", ["holiday", None])]
    assert all(by_the_operator(r) for r in rows)
    missing = runner.invoke(app, ["calendar", "unset", "2026-11-24"])
    assert missing.exit_code == 1
    assert len(audit_rows(console_db, AuditKind.CALENDAR_CHANGED)) == 2


def test_the_federation_key_and_the_province_as_parent_are_audited(console_db, tmp_path):
    warnflow("federation", "keygen")
    key_file = tmp_path / "province.pem"
    key_file.write_text(Pair().public_pem, encoding="utf-8")
    warnflow("federation", "add-peer", "zhongyuan-province", "--name", "中原省财政厅",
             "--relation", "parent", "--public-key", str(key_file), "--base-url", "https://yj.czt.example.cn")
    rows = audit_rows(console_db, AuditKind.FEDERATION_CHANGED)
    assert [r.data["action"] for r in rows] == ["keygen", "add_peer"]
    assert rows[1].data["deployment_id"] == "zhongyuan-province"
    assert all(by_the_operator(r) for r in rows)
