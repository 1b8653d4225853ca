"""Every number of the demo's ledger and per-rule summary opens a list of exactly that many
cases. 赵丽 (province) walks the provincial ledger (all months and November), its city
subtotals included; 王强 (平川市 treasury) walks his city's ledger; 赵丽 and 李娜 (安县
农财股 handler, who sees only her section) walk the per-rule summary."""

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_session
from models.settings import Settings
from tests.demo_province import PASSWORD, demo_session

LINK = re.compile(r'<a href="(/cases\?[^"]+)">(\d+)</a>')
TOTAL = re.compile(r'符合条件的预警共 <strong>(\d+)</strong> 条')
ROW = re.compile(r'<td class="nowrap"><a href="/cases/[^"?]+">')
NEXT = re.compile(r'<a class="button" href="(/cases\?[^"]+)">下一页')


@pytest.fixture(scope="module")
def demo(engine):
    yield from demo_session(engine)


@pytest.fixture(scope="module")
def client(demo, database_url, tmp_path_factory) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, demo=True,
                              var_dir=tmp_path_factory.mktemp("var")))

    def demo_request_session():
        yield demo
        demo.commit()

    app.dependency_overrides[get_session] = demo_request_session
    with TestClient(app) as client:
        yield client


def headers_of(client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def links_of(page: str) -> dict[str, int]:
    """Each distinct case-list link on the page with the number it shows."""
    found: dict[str, int] = {}
    for href, number in LINK.findall(page):
        href = html.unescape(href)
        assert found.setdefault(href, int(number)) == int(number), href
    return found


def cases_listed(client, headers, link: str) -> tuple[int, int]:
    """(the total the list states, the rows on all its pages)."""
    page = client.get(link, headers=headers)
    assert page.status_code == 200, link
    stated = int(TOTAL.search(page.text).group(1))
    rows = len(ROW.findall(page.text))
    while (following := NEXT.search(page.text)) is not None:
        page = client.get(html.unescape(following.group(1)), headers=headers)
        rows += len(ROW.findall(page.text))
    return stated, rows


def walk(client, headers, page_url: str) -> int:
    page = client.get(page_url, headers=headers)
    assert page.status_code == 200
    links = links_of(page.text)
    assert links, page_url
    wrong = {}
    for link, number in links.items():
        stated, rows = cases_listed(client, headers, link)
        if (stated, rows) != (number, number):
            wrong[link] = (number, stated, rows)
    assert wrong == {}
    return len(links)


def test_zhao_li_walks_every_number_of_the_provincial_ledger(client):
    headers = headers_of(client, "province")
    page = client.get("/ledger", headers=headers).text
    assert "平川市小计" in page and "青河市小计" in page
    # The cities' own cases have lines of their own, linked to the city's own level only.
    assert "region=419100&amp;region_only=1" in page
    assert walk(client, headers, "/ledger") > 100


def test_zhao_li_walks_the_ledger_of_one_month(client):
    headers = headers_of(client, "province")
    links = links_of(client.get("/ledger?month=2026-11", headers=headers).text)
    assert links and all("month=2026-11" in link for link in links)
    assert walk(client, headers, "/ledger?month=2026-11") > 20


def test_wang_qiang_walks_his_citys_ledger(client):
    headers = headers_of(client, "treasury")
    page = client.get("/ledger", headers=headers).text
    assert "平川市预警分类台账" in page and "青河市" not in page
    walk(client, headers, "/ledger")


@pytest.mark.parametrize("username", ["province", "handler"])
def test_every_number_of_the_rule_summary_opens_its_cases(client, username):
    walk(client, headers_of(client, username), "/summary")


def test_the_rule_summary_of_one_county(client):
    walk(client, headers_of(client, "province"), "/summary?region=419121")


def test_the_json_list_takes_the_same_filters(client):
    """The API answers a ledger cell's and a summary column's filters with the same cases."""
    headers = headers_of(client, "province")
    page = client.get("/ledger?month=2026-11", headers=headers).text
    for link, number in list(links_of(page).items())[:10]:
        query = link.split("?", 1)[1]
        answer = client.get(f"/api/v1/cases?{query}&limit=200", headers=headers)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["items"]) == number, link
    red = client.get("/api/v1/cases?bucket=red_open&limit=200", headers=headers).json()["items"]
    assert {i["state"] for i in red} <= {"red_light", "rectifying", "rectification_review"}
    assert client.get("/api/v1/cases?month=2026-13", headers=headers).status_code == 422
