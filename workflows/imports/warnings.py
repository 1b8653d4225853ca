"""The warnings kind: a file of warnings goes through the same checks as a JSON batch from the
platform (workflows.intake.imports.import_warnings)."""

from datetime import datetime

from sqlmodel import Session

from models.enums import WarningType
from workflows.core.actors import Actor
from workflows.imports.files import header_key
from workflows.imports.kinds import BatchOutcome, Column, Kind
from workflows.intake.imports import import_warnings


def _write_warnings(session: Session, actor: Actor, items: list[dict], as_of: datetime,
                    source: str) -> BatchOutcome:
    for item in items:
        item.setdefault("source", source)
    result = import_warnings(session, actor=actor, items=items, as_of=as_of)
    return BatchOutcome(
        created=result.created, duplicates=result.duplicates, suppressed=result.whitelisted,
        stripped=result.stripped,
        errors=[(e["index"], e["field"], e["message"]) for e in result.errors],
    )


WARNINGS = Kind(
    name="warnings",
    label="预警",
    roles_note="其他列原样保存在预警的其他要素中。按（来源系统, 预警编号）去重：同一文件再次导入不会重复建档。",
    write=_write_warnings,
    columns=(
        Column("external_id", "预警编号", ("外部编号", "预警单号", "预警ID"), required=True,
               example="W-20261123-0001", help="监控平台给出的预警编号，同一来源内唯一"),
        Column("rule_code", "规则编码", ("规则代码", "预警规则编码", "规则编号"), required=True,
               example="ZC-001", help="监控规则的编码，须为系统中已有的规则"),
        Column("region_code", "区划代码", ("行政区划", "行政区划代码", "区划编码"), required=True,
               example="410121", help="预警发生地的行政区划代码"),
        Column("raised_at", "预警产生时间", ("预警时间", "产生时间", "预警日期"), required=True,
               parse="datetime", example="2026-11-23 08:30:00",
               help="北京时间；可写 2026-11-23、2026/11/23、2026年11月23日 或 20261123"),
        Column("level", "预警级别", ("级别",), parse="level", example="黄灯",
               help="黄色警铃、黄灯 或 红灯；不填则取规则的级别"),
        Column("department_code", "处室编码", ("主管处室编码",), example="",
               help="不填则按预警类型分派到区划内负责的处室"),
        Column("warning_type", "预警类型", (), parse="warning_type", example="",
               help="不填则取规则的类型；可选：" + "、".join(t.label for t in WarningType)),
        Column("source", "来源系统", ("来源",), example="",
               help="不填则为导入时选择的来源"),
        Column("duty_due_on", "履职截止日期", (), parse="date", example="",
               help="黄色警铃的履职截止日期；不填则按规则的提前天数计算"),
        Column("facts.fund_name", "资金名称", (), example="中央财政衔接推进乡村振兴补助资金"),
        Column("facts.indicator_doc_no", "指标文件号", ("指标文号", "指标文件"), example="豫财农〔2026〕12号"),
        Column("facts.payer_name", "付款人名称", ("付款人", "付款单位"), example="安县财政局"),
        Column("facts.payee_name", "收款人名称", ("收款人", "收款单位", "受款人"), example="安县城关镇农民专业合作社"),
        Column("facts.payee_account", "收款人账户", ("收款人账号", "收款账号", "收款账户"), example="6222020200112233445",
               help="请设为文本格式，以免 Excel 把长数字改成科学计数法"),
        Column("facts.amount", "金额（元）", ("金额", "支付金额", "支付金额（元）", "金额（万元）", "支付金额（万元）"),
               parse="amount", example="50000.00",
               help="以元为单位；表头写“万元”的列按万元换算；可带千分位逗号",
               scales={header_key("金额（万元）"): 10_000, header_key("支付金额（万元）"): 10_000}),
        Column("facts.payment_date", "支付日期", ("支付时间",), parse="date", example="2026-11-18"),
        Column("facts.purpose", "用途", ("支付用途", "资金用途"), example="产业扶持资金"),
    ),
)
