"""The import rule (pyproject.toml [tool.importlinter]) holds for the tree, and a wrong-way
import breaks it: `make lint` and `make test` run the same check."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "workflows", "runtime", "api", "forms", "notifications")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def copy_of_the_tree(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "templates", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "wrong_import", "contract"), [
    ("workflows/core/errors.py", "import api.deps", "top-level packages"),
    ("workflows/cases/lifecycle.py", "import workflows.reporting.figures", "workflows subpackages"),
    ("workflows/intake/routing.py", "import workflows.admin.rules", "workflows subpackages"),
    ("forms/formatting.py", "import notifications.inbox", "top-level packages"),
    ("workflows/core/errors.py", "import workflows.core.actors", "no import cycles"),
])
def test_a_wrong_way_import_breaks_the_rule(copy_of_the_tree, module, wrong_import, contract):
    path = copy_of_the_tree / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{wrong_import}  # noqa\n", encoding="utf-8")
    result = lint_imports(copy_of_the_tree)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
