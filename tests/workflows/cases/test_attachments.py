"""Attachments on slips: only allowed documents, stored once by content, read within scope."""

from datetime import timedelta

import pytest
from sqlmodel import select

from models import Attachment, Case
from models.enums import Event
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.amend import amend_slip
from workflows.cases.attachments import (
    Upload,
    blob_path,
    check_upload,
    clean_filename,
    open_attachment,
    store_attachment,
    store_attachments,
)
from workflows.cases.transition import transition
from workflows.core.errors import InvalidInput, NotFound, OutOfScope, RoleNotAllowed

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
DOCX = b"PK\x03\x04" + bytes(40)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50)
LIMIT = 1024
LATER = NOW + timedelta(hours=2)


def verified(session, world) -> int:
    case_id = new_case(session, world, "yellow")
    return transition(
        session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"],
        version=session.get(Case, case_id).version, as_of=NOW, slip=verification_slip(),
    ).slip_id


def upload(session, world, slip_id, files_dir, *, who="li_na", filename="核查报告.pdf", data=PDF):
    return store_attachment(
        session, files_dir=files_dir, slip_id=slip_id, actor=world.actors[who], filename=filename,
        content_type="application/octet-stream", data=data, max_bytes=LIMIT, as_of=LATER,
    )


def test_li_na_attaches_a_scanned_pdf_and_reads_it_back(session, world, tmp_path):
    slip_id = verified(session, world)
    attachment_id = upload(session, world, slip_id, tmp_path)
    attachment, path = open_attachment(
        session, actor=world.actors["zhang_wei"], attachment_id=attachment_id, files_dir=tmp_path
    )
    assert path.read_bytes() == PDF
    assert path.parent.name == attachment.sha256[:2] and path.name == attachment.sha256
    assert attachment.filename == "核查报告.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    assert attachment.added_in_version == 1
    assert attachment.uploaded_by_id == world.users["li_na"]
    # No temporary file is left next to the stored one.
    assert [p.name for p in path.parent.iterdir()] == [attachment.sha256]


def test_the_same_scan_attached_twice_is_stored_once(session, world, tmp_path):
    slip_id = verified(session, world)
    first = upload(session, world, slip_id, tmp_path, filename="a.pdf")
    second = upload(session, world, slip_id, tmp_path, who="wang_fang", filename="b.pdf")
    assert first != second
    a, b = session.get(Attachment, first), session.get(Attachment, second)
    assert a.sha256 == b.sha256
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_an_attachment_added_after_an_amendment_belongs_to_the_new_version(session, world, tmp_path):
    slip_id = verified(session, world)
    amend_slip(
        session, slip_id=slip_id, version=1, changes=verification_slip(), reason="补充材料",
        actor=world.actors["li_na"], as_of=LATER,
    )
    attachment_id = upload(session, world, slip_id, tmp_path, filename="照片.png", data=PNG)
    attachment = session.get(Attachment, attachment_id)
    assert attachment.added_in_version == 2
    assert attachment.content_type == "image/png"


@pytest.mark.parametrize(
    ("filename", "data", "code", "words"),
    [
        ("setup.exe", EXE, "type_not_allowed", "文件“setup.exe”的类型不允许，只能上传 PDF、JPG、PNG、OFD、DOCX、XLSX"),
        ("发票.pdf", EXE, "content_mismatch", "文件“发票.pdf”的内容与扩展名 PDF 不符"),
        ("照片.png", JPEG, "content_mismatch", "文件“照片.png”的内容"),
        ("大文件.pdf", PDF + bytes(LIMIT), "too_large", "文件“大文件.pdf”超过 1 KB 上限"),
        ("空.pdf", b"", "empty_file", "文件“空.pdf”是空文件"),
        ("无扩展名", PDF, "type_not_allowed", "文件“无扩展名”的类型不允许"),
    ],
)
def test_files_that_are_not_allowed_are_refused_with_their_name(filename, data, code, words):
    with pytest.raises(InvalidInput) as refused:
        check_upload(filename=filename, data=data, max_bytes=LIMIT)
    error = refused.value.errors[0]
    assert (error.field, error.code) == ("attachments", code)
    assert error.message.startswith(words)


@pytest.mark.parametrize(
    ("filename", "data"),
    [("a.PDF", PDF), ("b.jpg", JPEG), ("c.JPEG", JPEG), ("d.png", PNG), ("e.docx", DOCX),
     ("f.xlsx", DOCX), ("g.ofd", DOCX)],
)
def test_every_allowed_type_passes(filename, data):
    check_upload(filename=filename, data=data, max_bytes=LIMIT)


def test_twenty_megabytes_is_the_default_words():
    with pytest.raises(InvalidInput) as refused:
        check_upload(filename="a.pdf", data=PDF + bytes(100), max_bytes=100)
    assert "超过 100 字节 上限" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        check_upload(filename="a.pdf", data=b"%PDF-" + bytes(20 * 1024 * 1024), max_bytes=20 * 1024 * 1024)
    assert refused.value.message == "文件“a.pdf”超过 20 MB 上限"


def test_one_bad_file_in_an_upload_saves_none(session, world, tmp_path):
    slip_id = verified(session, world)
    with pytest.raises(InvalidInput) as refused:
        store_attachments(
            session, files_dir=tmp_path, slip_id=slip_id, actor=world.actors["li_na"],
            files=[Upload("好.pdf", PDF), Upload("坏.exe", EXE), Upload("改名.pdf", EXE)],
            max_bytes=LIMIT, as_of=LATER,
        )
    assert [e.code for e in refused.value.errors] == ["type_not_allowed", "content_mismatch"]
    assert session.exec(select(Attachment).where(Attachment.slip_id == slip_id)).all() == []
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_filenames_lose_folders_and_control_characters():
    assert clean_filename("C:\\Users\\李娜\\扫描件.pdf") == "扫描件.pdf"
    assert clean_filename("../../etc/passwd.pdf") == "passwd.pdf"
    assert clean_filename("核\x00查\r\n报告\u202e.pdf") == "核查报告.pdf"
    assert len(clean_filename("长" * 300 + ".pdf")) == 200
    assert clean_filename("长" * 300 + ".pdf").endswith(".pdf")


def test_who_may_upload_a_handler_or_supervisor_of_the_department(session, world, tmp_path):
    slip_id = verified(session, world)
    upload(session, world, slip_id, tmp_path, who="zhang_wei")  # the section's supervisor
    with pytest.raises(OutOfScope):
        upload(session, world, slip_id, tmp_path, who="zhao_lei")  # Ningxian
    with pytest.raises(OutOfScope):
        upload(session, world, slip_id, tmp_path, who="chen_jie")  # Anxian, another section
    with pytest.raises(RoleNotAllowed):
        upload(session, world, slip_id, tmp_path, who="liu_yang")  # auditor reads, never writes
    with pytest.raises(RoleNotAllowed):
        upload(session, world, slip_id, tmp_path, who="sun_hao")  # the admin never acts on cases
    with pytest.raises(NotFound):
        upload(session, world, slip_id + 999, tmp_path)


def test_who_may_read_an_attachment(session, world, tmp_path):
    slip_id = verified(session, world)
    attachment_id = upload(session, world, slip_id, tmp_path)
    for who in ("li_na", "wang_fang", "zhang_wei", "liu_yang"):
        open_attachment(session, actor=world.actors[who], attachment_id=attachment_id, files_dir=tmp_path)
    for who in ("zhao_lei", "chen_jie", "ningxian_boss"):
        with pytest.raises(OutOfScope):
            open_attachment(session, actor=world.actors[who], attachment_id=attachment_id, files_dir=tmp_path)
    for who in ("sun_hao", "platform"):
        with pytest.raises(RoleNotAllowed):
            open_attachment(session, actor=world.actors[who], attachment_id=attachment_id, files_dir=tmp_path)
    with pytest.raises(NotFound):
        open_attachment(session, actor=world.actors["li_na"], attachment_id=attachment_id + 999, files_dir=tmp_path)


def test_a_blob_path_is_only_ever_a_hash():
    with pytest.raises(NotFound):
        blob_path("/tmp", "../../etc/passwd")
