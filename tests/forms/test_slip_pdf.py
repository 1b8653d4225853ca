"""Printing a processing slip: one A4 page with every field a reader of the form expects."""

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from forms.pdf import CLIPPED_NOTE, slip_pdf
from models import Attachment, Case
from models.enums import AmountBasis, Conclusion, Event
from tests.factories import NOW, new_case, rectification_slip, verification_slip
from workflows.cases.transition import transition, transition_many
from workflows.core.errors import NotFound

SCRIPT = "<script>alert('x')</script>"


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "slip.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    # Cells wrap where the layout decides; read the page as one run of text.
    return text.replace("\n", "")


def page_count(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def version(session, case_id: int) -> int:
    return session.get(Case, case_id).version


def verify(session, world, case_id: int, slip=None, at=NOW):
    return transition(
        session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"],
        version=version(session, case_id), as_of=at, slip=slip or verification_slip(),
    )


def test_li_na_prints_her_verification_slip_with_every_field(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    slip = verification_slip().model_copy(update={"findings": f"收款人称资金已挪用。{SCRIPT}"})
    filed = verify(session, world, case_id, slip)
    session.add_all([
        Attachment(slip_id=filed.slip_id, sha256="a" * 64, size=10, content_type="application/pdf",
                   filename="拨付凭证扫描件.pdf", uploaded_by_id=world.users["li_na"]),
        Attachment(slip_id=filed.slip_id, sha256="b" * 64, size=10, content_type="image/png",
                   filename="已删除的照片.png", uploaded_by_id=world.users["li_na"], removed_in_version=1),
    ])
    session.flush()

    data = slip_pdf(session, filed.slip_id)

    assert data.startswith(b"%PDF")
    assert page_count(data, tmp_path) == 1
    text = pdf_text(data, tmp_path)
    case_number = session.get(Case, case_id).number
    for expected in [
        "财政扶贫资金动态监控预警核实处理单", "单位：安县财政局农财股（盖章）", "2026年11月23日",
        "编号：HS-202611-", case_number, "预警级别", "黄灯", "支付用途可疑", "豫财办〔2018〕33号",
        "中原省平川市安县", "主管处室", "中央财政衔接推进乡村振兴补助", "收款人", "安县城关镇农民专业合作社",
        "6222 **** **** 3445", "金额（元）", "12,345.67", "2026年11月18日", "产业扶持资金",
        "电话核实、调阅材料", "核实情况", "收款人称资金已挪用。", SCRIPT, "认定结论", "违规",
        "挤占挪用", "涉及金额（元）", "拨付凭证扫描件.pdf", "经办人", "李娜", "处室负责人意见",
        "填报人：李娜", "联系电话：0371-12345678",
    ]:
        assert expected in text, expected
    assert "6222020200112233445" not in text
    assert "已删除的照片.png" not in text
    assert CLIPPED_NOTE not in text


def test_a_slip_ruled_normal_prints_without_violation_details(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    filed = verify(session, world, case_id, verification_slip(Conclusion.NORMAL))
    text = pdf_text(slip_pdf(session, filed.slip_id), tmp_path)
    assert "认定结论正常" in text
    assert "违规类型—" in text and "挤占挪用" not in text
    assert "附件无" in text


def test_the_rectification_slip_prints_with_the_supervisors_approval(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    verify(session, world, case_id)
    rectified = transition(
        session, case_id=case_id, event=Event.SUBMIT_RECTIFICATION, actor=world.actors["li_na"],
        version=version(session, case_id), as_of=NOW + timedelta(hours=2), slip=rectification_slip(),
    )
    transition(
        session, case_id=case_id, event=Event.APPROVE_RECTIFICATION, actor=world.actors["zhang_wei"],
        version=version(session, case_id), as_of=NOW + timedelta(hours=3), comment="整改到位",
    )

    data = slip_pdf(session, rectified.slip_id)

    assert page_count(data, tmp_path) == 1
    text = pdf_text(data, tmp_path)
    for expected in [
        "财政扶贫资金动态监控预警整改处理单", "编号：ZG-202611-", "红灯", "整改措施", "收回资金、已纠正",
        "整改情况", "已责令收回挪用资金", "收回金额（元）", "12,345.67", "整改完成日期",
        "2026年11月23日", "同意。整改到位", "张伟",
    ]:
        assert expected in text, expected


def test_a_batch_slip_lists_its_cases_or_prints_the_one_asked_for(session, world, tmp_path):
    case_ids = [new_case(session, world, "yellow", amount=amount) for amount in ("1000", "2000.5", "30000")]
    numbers = [session.get(Case, cid).number for cid in case_ids]
    results = transition_many(
        session, cases=[(cid, version(session, cid)) for cid in case_ids],
        event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"], as_of=NOW, slip=verification_slip(basis=AmountBasis.TOTAL),
    )
    slip_id = results[0].slip_id

    listing = pdf_text(slip_pdf(session, slip_id), tmp_path)
    assert "共3件" in listing
    assert all(number in listing for number in numbers)
    assert "合计" in listing and "33,000.50" in listing

    one = slip_pdf(session, slip_id, case_id=case_ids[1])
    assert page_count(one, tmp_path) == 1
    text = pdf_text(one, tmp_path)
    assert numbers[1] in text and numbers[0] not in text and numbers[2] not in text
    assert "2,000.50" in text

    other = new_case(session, world, "yellow")
    with pytest.raises(NotFound):
        slip_pdf(session, slip_id, case_id=other)
    with pytest.raises(NotFound):
        slip_pdf(session, 987654)


def test_a_batch_slip_over_many_cases_still_prints_on_one_page(session, world, tmp_path):
    case_ids = [new_case(session, world, "yellow") for _ in range(40)]
    results = transition_many(
        session, cases=[(cid, version(session, cid)) for cid in case_ids],
        event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"], as_of=NOW, slip=verification_slip(basis=AmountBasis.PER_CASE),
    )
    data = slip_pdf(session, results[0].slip_id)
    assert page_count(data, tmp_path) == 1
    text = pdf_text(data, tmp_path)
    assert "共40件" in text and "另有" in text and CLIPPED_NOTE in text


def test_huge_findings_still_print_on_one_page_with_a_note(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    findings = ("经实地核查，该合作社将扶贫资金用于购置办公设备，与项目批复不符。\n" * 200)[:4000]
    filed = verify(session, world, case_id, verification_slip().model_copy(update={"findings": findings}))

    data = slip_pdf(session, filed.slip_id)

    assert page_count(data, tmp_path) == 1
    text = pdf_text(data, tmp_path)
    assert "经实地核查，该合作社将扶贫资金" in text
    assert CLIPPED_NOTE in text
    # The rest of the form is still there after the long text.
    assert "处室负责人意见" in text and "联系电话：0371-12345678" in text


def test_one_long_paragraph_without_line_breaks_fits_too(session, world, tmp_path):
    case_id = new_case(session, world, "yellow")
    findings = "核" * 2500 + "x" * 1500
    filed = verify(session, world, case_id, verification_slip().model_copy(update={"findings": findings}))
    data = slip_pdf(session, filed.slip_id)
    assert page_count(data, tmp_path) == 1
    assert CLIPPED_NOTE in pdf_text(data, tmp_path)


def test_printed_documents_never_fetch_anything_from_outside():
    from forms.weasy import NoNetwork

    with pytest.raises(ValueError):
        NoNetwork().fetch("http://example.com/logo.png")
    with pytest.raises(ValueError):
        NoNetwork().fetch("file:///etc/passwd")


def test_an_amended_slip_with_everything_long_still_prints_on_one_page(session, world, tmp_path):
    world.rules["yellow"].basis = "《财政扶贫资金动态监控工作规程》第十九条：" + "对黄灯预警信息应进行核实。" * 120
    case_id = new_case(session, world, "yellow")
    case = session.get(Case, case_id)
    case.payee_name = "安县城关镇" + "某某农民专业合作社联合社" * 9
    case.purpose = "<b>产业扶持</b>" * 20  # 220 of 255 characters
    session.flush()
    long_slip = verification_slip().model_copy(
        update={"findings": "核实发现的问题：" * 400, "filler_name": "欧阳" * 32}
    )
    filed = verify(session, world, case_id, long_slip)
    session.add_all(
        Attachment(slip_id=filed.slip_id, sha256="c" * 64, size=1, content_type="application/pdf",
                   filename=f"第{i + 1}份拨付凭证及相关说明材料扫描件.pdf", uploaded_by_id=world.users["li_na"])
        for i in range(30)
    )
    from workflows.cases.amend import amend_slip

    amend_slip(
        session, slip_id=filed.slip_id, version=1, changes=long_slip, reason="补充附件",
        actor=world.actors["wang_fang"], as_of=NOW + timedelta(hours=1),
    )

    data = slip_pdf(session, filed.slip_id)

    assert page_count(data, tmp_path) == 1
    text = pdf_text(data, tmp_path)
    assert "（第2版）" in text
    assert "<b>产业扶持</b>" in text
    assert "第1份拨付凭证" in text and "另有" in text
    assert text.count(CLIPPED_NOTE) >= 3
    assert "联系电话：0371-12345678" in text
