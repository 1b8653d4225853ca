"""The monthly summary printed: the official title, Chinese tables, charts, the formula."""

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from forms.report_pdf import monthly_report_pdf, report_html
from models import Region
from tests.factories import new_case
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november, shanghai
from workflows.oversight.streaks import evaluate_month
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.reads import read_report


def pdf_text(data: bytes, tmp_path: Path, name: str = "report.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    return " ".join(text.split())


@pytest.fixture
def drafted(session, world):
    scenario = build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    return scenario


def view_of(session, world, key):
    return read_report(session, region=session.get(Region, world.regions[key].id), month=MONTH,
                       as_of=DRAFT_AT)  # fmt: skip


def test_qian_lis_anxian_report_prints_the_chinese_tables(session, world, drafted, tmp_path):
    text = pdf_text(monthly_report_pdf(view_of(session, world, "anxian")), tmp_path)
    assert "安县财政扶贫资金动态监控预警情况月报" in text and "《" not in text
    assert "编报地区：中原省平川市安县" in text
    assert "assessment_weights" not in text and "按期办结率权重 40、整改率权重 40、超期控制权重 20" in text
    # Separate lines for 编制 / 会签 / 报送 (a county reports to its city), and the foot.
    for line in ("编制（国库）：", "会签（脱贫办）：", "报送市局："):
        assert line in text, line
    for foot in ("单位（盖章）：安县财政局", "负责人：", "填报人：", "联系电话："):
        assert foot in text, foot
    assert "（2026年11月）" in text and "第1版" in text and "编制中" in text
    assert "报送期限：2026年12月7日" in text
    for heading in ("一、总体情况", "二、预警分级分类情况（月末状态）", "三、规则汇总表",
                    "四、超期预警清单", "五、连续预警地区（三个月规则）", "六、专项督查和约谈",
                    "七、各部门情况", "八、指标口径"):  # fmt: skip
        assert heading in text, heading
    # The headline with its fractions, the amounts in 万元, the medians.
    assert "按期办结率 66.67%（2/3）" in text
    assert "整改率 50.00%（1/2）" in text and "超期率 25.00%（1/4）" in text
    assert "涉及金额（万元） 1.23" in text
    # The per-rule table: headers and 支付用途可疑's row (raised 6, resolved 3, open 3, overdue 1).
    assert "规则编码 规则名称 规则分类 预警级别 本月产生 本月办结 月末未办结 月末超期" in text
    assert "ZC-001 支付用途可疑 支出管理 黄灯 6 3 3 1" in text
    assert "合计 7 3 4 1" in text
    # The overdue list names D with its 15 working days overdue.
    assert drafted.number(session, "D") in text and "安县财政局农财股" in text
    # The charts are drawn (their titles are text in the PDF).
    assert "按预警级别（件）" in text and "按规则分类（件）" in text
    assert "考核得分 = 40 × 按期办结率 + 40 × 整改率 + 20 × (1 − 超期率)" in text
    assert "第2页共2页" in text.replace(" ", "")


def test_the_city_report_scores_its_counties(session, world, drafted, tmp_path):
    text = pdf_text(monthly_report_pdf(view_of(session, world, "city")), tmp_path)
    assert "平川市财政扶贫资金动态监控预警情况月报" in text and "报送省厅：" in text
    assert "五、下级地区情况及考核得分" in text and "九、指标口径" in text
    assert "本月尚未评估三个月规则" in text and "本月开启约谈（件） 0" in text
    assert "安县" in text and "61.67" in text
    assert "宁县" in text and "40.00" in text
    assert drafted.number(session, "G") in text


def test_the_charts_are_inline_svg_with_escaped_labels(session, world, drafted):
    html = report_html(view_of(session, world, "anxian"))
    assert html.count("<svg") == 2 and "<img" not in html and "http" not in html.split("<svg")[0]
    assert "<script" not in html


def test_a_live_report_before_drafting_says_so(session, world, tmp_path):
    build_november(session, world)
    view = view_of(session, world, "anxian")
    assert view.live and view.version is None
    text = pdf_text(monthly_report_pdf(view), tmp_path)
    assert "未起草（实时数据）" in text and "实时数据，未保存" in text


def test_regions_on_the_three_month_rule_are_printed(session, world, tmp_path):
    build_november(session, world)
    new_case(session, world, "yellow", at=shanghai(9, 1))  # 安县: open since September
    evaluate_month(session, month=MONTH, as_of=DRAFT_AT)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    text = pdf_text(monthly_report_pdf(view_of(session, world, "city")), tmp_path)
    assert "地区 区划代码 连续计入月数 情形" in text
    assert "安县 410121 3 连续3个月计入，达到3个月规则（专项督查）" in text


def test_a_countersigned_report_prints_who_compiled_and_countersigned_it(
    session, world, drafted, tmp_path
):
    from models import MonthlyReport
    from models.reports import ReportStatus

    report = session.exec(
        sa.select(MonthlyReport).where(MonthlyReport.region_id == world.regions["anxian"].id)
    ).scalar_one()
    report.status = ReportStatus.COUNTERSIGNED
    report.compiled_by, report.compiled_at = world.users["qian_li"], shanghai(12, 2, 10)
    report.countersigned_by, report.countersigned_at = world.users["he_min"], shanghai(12, 3, 15)
    session.add(report)
    session.flush()
    text = pdf_text(monthly_report_pdf(view_of(session, world, "anxian")), tmp_path)
    assert "编制（国库）： 钱丽 2026年12月2日" in text
    assert "会签（脱贫办）： 何敏 2026年12月3日" in text and "已会签" in text
    assert "报送市局： 年 月 日" in text and "填报人：钱丽" in text
