"""How warnings arrive from the monitoring platform: POST /api/v1/warnings/import."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from workflows.core.clock import now_utc
from workflows.core.roles import IMPORTERS
from workflows.intake.imports import MAX_ITEMS, WarningIn, import_warnings

from ..deps import CurrentActor, SessionDep, allow

router = APIRouter(tags=["预警导入"])


class ImportItemError(BaseModel):
    index: int
    field: str
    code: str
    message: str


class ImportOut(BaseModel):
    created: int
    duplicates: int
    whitelisted: int
    errors: list[ImportItemError]


_EXAMPLE = WarningIn(
    rule_code="ZC-001", region_code="410121", source="henan-platform", external_id="W-20261123-0001",
    raised_at="2026-11-23T08:30:00+08:00",
    facts={"fund_name": "中央财政衔接推进乡村振兴补助资金", "payee_name": "安县城关镇农民专业合作社",
           "payee_account": "6222020200112233445", "amount": "50000.00", "payment_date": "2026-11-18",
           "purpose": "产业扶持资金"},
).model_dump(mode="json", exclude_none=True)


@router.post(
    "/warnings/import", response_model=ImportOut, summary="批量导入预警",
    dependencies=[Depends(allow(IMPORTERS))],
    description=(
        f"一次最多 {MAX_ITEMS:,} 条，超过则整批拒绝（422）。按（source, external_id）去重，重复发送不会重复建档；"
        "有误的条目逐条报告（index、field），其余照常入库；收款人或账户在白名单内的不产生预警。"
        "每条预警的字段见 WarningIn。"
    ),
)
def import_batch(
    items: Annotated[list[Any], Body(examples=[[_EXAMPLE]])],
    actor: CurrentActor,
    session: SessionDep,
) -> ImportOut:
    # Items are validated one by one in workflows so that a bad one is reported, not fatal.
    result = import_warnings(session, actor=actor, items=items, as_of=now_utc())
    return ImportOut.model_validate(result.as_dict())
