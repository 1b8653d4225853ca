"""`warnflow federation`: Sun Hao generates the key, prints it for the province's admin, and
registers the province as the parent (and a county as a child)."""

from typer.testing import CliRunner

from api.cli import app
from tests.workflows.federation.test_exchange import Pair

runner = CliRunner()


def test_keygen_show_key_and_add_peer(cli_db, tmp_path, monkeypatch):
    monkeypatch.setenv("WARNFLOW_DEPLOYMENT_ID", "anxian-county")
    from models.settings import get_settings

    get_settings.cache_clear()
    missing = runner.invoke(app, ["federation", "show-key"])
    assert missing.exit_code == 2 and "keygen" in missing.output
    made = runner.invoke(app, ["federation", "keygen"])
    assert made.exit_code == 0, made.output
    assert "anxian-county" in made.output and "-----BEGIN PUBLIC KEY-----" in made.output
    shown = runner.invoke(app, ["federation", "show-key"])
    assert shown.exit_code == 0 and shown.output.split("公钥")[1] == made.output.split("公钥")[1]
    key_file = tmp_path / "province.pem"
    key_file.write_text(Pair().public_pem, encoding="utf-8")
    added = runner.invoke(app, ["federation", "add-peer", "zhongyuan-province", "--name", "中原省财政厅",
                                "--relation", "parent", "--public-key", str(key_file),
                                "--base-url", "https://yj.czt.example.cn"])  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "已登记上级系统 中原省财政厅" in added.output
    refused = runner.invoke(app, ["federation", "add-peer", "ningxian", "--name", "宁县",
                                  "--relation", "child", "--public-key", str(key_file)])  # fmt: skip
    assert refused.exit_code == 2 and "region_code" in refused.output
