import pytest


@pytest.fixture
def head_file(tmp_path):
    """Where this test's seals write the chain head."""
    return tmp_path / "audit-head.json"
