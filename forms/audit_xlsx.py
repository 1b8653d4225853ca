"""The audit trail as XLSX: the rows (审计记录) and the manifest (清单) to check the file by."""

from openpyxl import Workbook

from models.audit import AUDITED_TABLES
from workflows.audit.export import TrailExport

from .spreadsheets import DATETIME, _finish, _header, _local_naive, _save, _write_row

COLUMNS = [
    ("时间", 20, DATETIME),
    ("类别", 22, None),
    ("人员", 18, None),
    ("预警编号", 18, None),
    ("区划路径", 22, None),
    ("内容", 40, None),
    ("来源表", 14, None),
    ("记录号", 10, "0"),
    ("链环序号", 10, "0"),
    ("链散列", 66, None),
]
MANIFEST = [("项目", 16, None), ("内容", 90, None)]


def trail_xlsx(export: TrailExport) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "审计记录"
    _header(sheet, COLUMNS)
    for r, row in enumerate(export.rows, start=2):
        _write_row(sheet, r, [
            _local_naive(row.at), row.kind_label, row.person, row.case_number or "",
            row.region_path or "", row.detail, row.table_name, row.id, row.seq, row.hash or "",
        ], COLUMNS)
    _finish(sheet, COLUMNS, autofilter=True)

    m = export.manifest
    manifest = book.create_sheet("清单")
    _header(manifest, MANIFEST)
    lines = [
        ("行数", m.rows),
        ("已封存行数", m.sealed),
        ("首行链散列", m.first_hash or "（无已封存记录）"),
        ("末行链散列", m.last_hash or "（无已封存记录）"),
        ("内容摘要", m.digest),
        ("筛选条件", m.filter),
        ("导出人", m.exported_by),
        ("导出时间", _local_naive(m.exported_at).strftime("%Y-%m-%d %H:%M:%S")),
        ("导出时链尾", f"第 {m.chain_seq} 环 {m.chain_hash}" if m.chain_seq else "（链为空）"),
        ("校验方法", "内容摘要 = SHA-256（按本文件行序，每行一条“来源表|记录号|链散列”，未封存记为“-”，"
                     "以换行连接）；各行链散列可与 warnflow audit verify 校验的审计链逐一核对。"),
        ("来源表说明", "；".join(f"{t.name}={t.label}" for t in AUDITED_TABLES.values())),
    ]
    for r, (item, value) in enumerate(lines, start=2):
        _write_row(manifest, r, [item, value], MANIFEST)
    _finish(manifest, MANIFEST, autofilter=False)
    return _save(book)
