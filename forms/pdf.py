"""The processing slip (处理单) printed as a one-page official A4 document.

`slip_pdf()` reads the slip, the case(s) it covers and the people who signed it straight
from the tables, fills forms/templates/pdf/slip.html (autoescaped: whatever users typed
prints as text) and lays it out with WeasyPrint. A slip is one page, always: long text
first shrinks the font step by step, then is cut with a visible note pointing to the system.
Scope is the caller's business (the route checks the actor before asking for the PDF).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from models import (
    Attachment,
    Case,
    CaseEvent,
    CaseSlip,
    OrgUnit,
    Region,
    Rule,
    Slip,
    SlipSignoff,
    SlipVersion,
    User,
    enums,
)
from models.enums import STATE_LEVEL, SlipKind
from workflows.cases.slip_reads import typed_fields
from workflows.core.errors import NotFound

from .weasy import layout, stylesheet, template_environment

TITLES = {
    SlipKind.VERIFICATION: "财政扶贫资金动态监控预警核实处理单",
    SlipKind.RECTIFICATION: "财政扶贫资金动态监控预警整改处理单",
}
CLIPPED_NOTE = "（内容过长，完整内容见系统）"
BLANK_DATE = "\u3000\u3000年\u3000\u3000月\u3000\u3000日"
# Font sizes (pt), roomiest first, with how many lines of the long text (核实情况 or 整改情况)
# fit on the page at that size next to an ordinary single-case slip (measured once with
# WenQuanYi Micro Hei and slip.css; re-measure when the layout changes, see _plans).
CAPACITY = {10.5: 11, 10.0: 13, 9.5: 15, 9.0: 17, 8.5: 21, 8.0: 24}
# The text width of the wide cells (three columns) and of the value cells beside a
# label, in mm, for counting lines.
WIDE_CELL_MM = 135
NARROW_CELL_MM = 50
HALF_WIDTH_MM = 75
# A batch slip's long-text box (7rem) holds about this many lines.
BATCH_BOX_LINES = 4.8
PT_MM = 0.3528


_env = template_environment()
_css = stylesheet("slip.css")


@dataclass
class _Sheet:
    """Everything printed, before fitting: plain values, cut to size by `_fit`."""

    slip: dict[str, Any]
    unit_name: str
    case: dict[str, Any] | None
    batch: dict[str, Any] | None
    attachments: list[str]
    handler: dict[str, Any]
    supervisor: dict[str, Any]
    # Set when the printed version is not the slip's current one: it is void (已作废).
    void: dict[str, Any] | None = None


def slip_pdf(
    session: Session, slip_id: int, *, case_id: int | None = None, version: int | None = None
) -> bytes:
    """The slip as PDF bytes, one A4 page: `version` (default the current one) with that
    version's own sign-offs. A batch slip prints `case_id`, or lists its cases, each with
    its own decision."""
    sheet = _load(session, slip_id, case_id, version)
    return _fit(sheet)


# --- reading -------------------------------------------------------------------------


def _load(session: Session, slip_id: int, case_id: int | None, version: int | None) -> _Sheet:
    slip = session.get(Slip, slip_id)
    if slip is None:
        raise NotFound("处理单不存在")
    version = slip.version if version is None else version
    stored = session.execute(
        sa.select(SlipVersion.fields, SlipVersion.created_at)
        .where(SlipVersion.slip_id == slip_id, SlipVersion.version == version)
    ).one_or_none()
    if stored is None:
        raise NotFound(f"处理单没有第 {version} 版")
    fields = typed_fields(stored.fields)
    covered = list(
        session.execute(
            sa.select(CaseSlip.case_id).where(CaseSlip.slip_id == slip_id).order_by(CaseSlip.case_id)
        ).scalars()
    )
    if case_id is not None:
        if case_id not in covered:
            raise NotFound("该处理单不涉及此预警")
        covered = [case_id]
    signoffs = _signoffs(session, slip_id, version, covered)
    cases = [_case_facts(session, cid, slip_id) | {"signoff": signoffs.get(cid)} for cid in covered]
    filer = session.get(User, slip.filed_by_id)
    unit = session.get(OrgUnit, filer.org_unit_id) if filer else None
    attachments = list(
        session.execute(
            sa.select(Attachment.filename)
            .where(
                Attachment.slip_id == slip_id,
                Attachment.added_in_version <= version,
                sa.or_(
                    Attachment.removed_in_version.is_(None),
                    Attachment.removed_in_version > version,
                ),
            )
            .order_by(Attachment.uploaded_at, Attachment.id)
        ).scalars()
    )
    return _Sheet(
        slip={
            "number": slip.number,
            "kind": slip.kind,
            "version": version,
            "filed_at": slip.filed_at,
            "methods": list(fields.get("methods") or []),
            "findings": fields.get("findings") or "",
            "conclusion": fields.get("conclusion"),
            "violation_type": fields.get("violation_type"),
            "amount_involved": fields.get("amount_involved"),
            "measures": list(fields.get("measures") or []),
            "measures_detail": fields.get("measures_detail") or "",
            "amount_recovered": fields.get("amount_recovered"),
            "completed_on": fields.get("completed_on"),
            "multiple_payments_reason": fields.get("multiple_payments_reason") or "",
            "amount_basis": fields.get("amount_basis"),
            "filler_name": fields.get("filler_name") or "",
            "filler_phone": fields.get("filler_phone") or "",
        },
        unit_name=unit.name if unit else "",
        case=cases[0] if len(cases) == 1 else None,
        batch=_batch(cases) if len(cases) != 1 else None,
        attachments=attachments,
        handler={"name": filer.full_name if filer else "", "date": slip.filed_at},
        supervisor=_supervisor([c["signoff"] for c in cases]),
        void=_void(session, slip_id, version, slip.version, signoffs),
    )


def _signoffs(session: Session, slip_id: int, version: int, case_ids: list[int]) -> dict[int, dict]:
    """case id → the sign-off given on this version of the slip for that case."""
    rows = session.execute(
        sa.select(SlipSignoff.case_id, SlipSignoff.decision, SlipSignoff.opinion,
                  SlipSignoff.signed_at, SlipSignoff.voided_at, SlipSignoff.void_reason,
                  User.full_name)
        .join(User, User.id == SlipSignoff.supervisor_id)
        .where(SlipSignoff.slip_id == slip_id, SlipSignoff.slip_version == version,
               SlipSignoff.case_id.in_(case_ids))
        .order_by(SlipSignoff.signed_at, SlipSignoff.id)
    ).all()  # fmt: skip
    return {
        r.case_id: {"name": r.full_name, "opinion": r.opinion, "date": r.signed_at,
                    "decision": r.decision, "voided_at": r.voided_at, "void_reason": r.void_reason}
        for r in rows
    }  # fmt: skip


def _void(session, slip_id: int, version: int, current: int, signoffs: dict) -> dict | None:
    """What the 已作废 mark says on a version that a later one replaced."""
    if version >= current:
        return None
    replaced = session.execute(
        sa.select(SlipVersion.created_at, SlipVersion.reason)
        .where(SlipVersion.slip_id == slip_id, SlipVersion.version == version + 1)
    ).one()
    signed = any(s["voided_at"] is not None for s in signoffs.values())
    return {"by_version": version + 1, "at": replaced.created_at, "reason": replaced.reason or "",
            "signed": signed}  # fmt: skip


def _case_facts(session: Session, case_id: int, slip_id: int) -> dict[str, Any]:
    case = session.get(Case, case_id)
    rule = session.get(Rule, case.rule_id)
    region = session.get(Region, case.region_id)
    unit = session.get(OrgUnit, case.org_unit_id)
    # The level the warning had when this slip was filed (a verified yellow light turns
    # red afterwards, but the slip verified a yellow light).
    filed_from = session.execute(
        sa.select(CaseEvent.from_state)
        .where(CaseEvent.case_id == case_id, CaseEvent.slip_id == slip_id)
        .order_by(CaseEvent.seq)
        .limit(1)
    ).scalar_one_or_none()
    return {
        "number": case.number,
        "level": STATE_LEVEL[filed_from] if filed_from else case.raised_level,
        "rule_name": rule.name,
        "rule_basis": rule.basis or "",
        "region": _region_name(session, region),
        "department": unit.name,
        "fund_name": case.fund_name,
        "indicator_doc_no": case.indicator_doc_no,
        "payee_name": case.payee_name,
        "payee_account": case.payee_account,
        "amount": case.amount,
        "payment_date": case.payment_date,
        "purpose": case.purpose or "",
    }


def _region_name(session: Session, region: Region) -> str:
    """"中原省平川市安县": the region under its ancestors; "平川市本级" replaces "平川市"."""
    codes = [c for c in region.path.split("/") if c]
    names = dict(
        session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(codes))).all()
    )
    parts: list[str] = []
    for code in codes:
        name = names.get(code, code)
        if parts and name.startswith(parts[-1]):
            parts[-1] = name
        else:
            parts.append(name)
    return "".join(parts)


def _batch(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """What a batch slip says about its cases: shared facts once, the rest as a list."""

    def common(key: str) -> Any:
        values = {c[key] for c in cases}
        return values.pop() if len(values) == 1 else "多项（见下表）"

    amounts = [c["amount"] for c in cases if c["amount"] is not None]
    return {
        "total": len(cases),
        "level": common("level"),
        "rule_name": common("rule_name"),
        "rule_basis": common("rule_basis"),
        "region": common("region"),
        "department": common("department"),
        "cases": cases,
        "hidden": 0,
        "amount_total": sum(amounts, Decimal("0.00")) if amounts else None,
        "signed": any(c.get("signoff") for c in cases),
    }


def _supervisor(signoffs: list[dict | None]) -> dict[str, Any]:
    """The 处室负责人意见 block: the one sign-off of the printed cases, or — when a batch
    slip's cases were decided differently — a pointer to each case's decision in the list."""
    given = [s for s in signoffs if s is not None]
    if not given:
        return {"name": "", "opinion": "", "date": None}
    first = given[0]
    if len(given) == len(signoffs) and all(
        (s["name"], s["opinion"], s["date"]) == (first["name"], first["opinion"], first["date"])
        for s in given
    ):
        return {"name": first["name"], "opinion": first["opinion"], "date": first["date"]}
    names = "、".join(dict.fromkeys(s["name"] for s in given))
    return {"name": names, "opinion": "各预警分别审核，审核意见见上表。",
            "date": max(s["date"] for s in given)}


# --- fitting on one page ---------------------------------------------------------------


@dataclass(frozen=True)
class _Cut:
    """How a sheet is printed: font size, and how much of each long part is kept."""

    font_pt: float
    main_lines: int | None = None  # 核实情况 / 整改情况
    other_lines: int | None = None  # 规则依据, 用途, 处室负责人意见
    cases: int | None = None  # rows of a batch slip's case list
    attachments: int | None = None


def _width(text: str) -> float:
    """Width in em: CJK and full-width characters are 1, Latin letters and digits about 0.6."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.6 for ch in text)


def _per_line(font_pt: float, cell_mm: float = WIDE_CELL_MM) -> int:
    return int(cell_mm / (font_pt * PT_MM))


def _lines(text: str | None, font_pt: float, cell_mm: float = WIDE_CELL_MM) -> int:
    if not text:
        return 1
    per = _per_line(font_pt, cell_mm)
    return sum(max(1, -(-int(_width(p)) // per)) for p in text.split("\n"))


def _clip(text: str | None, max_lines: int | None, font_pt: float) -> str:
    """Keep what fits in `max_lines` lines of a wide cell, then say that the rest is cut."""
    text = text or ""
    if max_lines is None or _lines(text, font_pt) <= max_lines:
        return text
    per = _per_line(font_pt)
    budget = max(1, max_lines - 1) * per  # the last line is for the note
    kept: list[str] = []
    for paragraph in text.split("\n"):
        cost = max(1, -(-int(_width(paragraph)) // per)) * per
        if cost <= budget:
            kept.append(paragraph)
            budget -= cost
            continue
        cut, width = [], 0.0
        for ch in paragraph:
            width += _width(ch)
            if width > budget:
                break
            cut.append(ch)
        kept.append("".join(cut))
        break
    return "\n".join(kept).rstrip() + "……" + CLIPPED_NOTE


def _main_text(sheet: _Sheet) -> str:
    key = "findings" if sheet.slip["kind"] == SlipKind.VERIFICATION else "measures_detail"
    return sheet.slip[key]


def _other_texts(sheet: _Sheet) -> list[str]:
    facts = sheet.case or sheet.batch or {}
    return [str(facts.get("rule_basis") or ""), str(facts.get("purpose") or ""), sheet.supervisor["opinion"]]


def _need(sheet: _Sheet, cut: _Cut) -> float:
    """Estimated lines of long text the sheet needs beyond an ordinary slip at `cut`."""
    f = cut.font_pt
    main = _lines(_main_text(sheet), f)
    if cut.main_lines is not None:
        main = min(main, cut.main_lines)
    others = 0
    for text in _other_texts(sheet):
        lines = _lines(text, f)
        others += (min(lines, cut.other_lines) if cut.other_lines else lines) - 1
    if not sheet.batch:
        need = main + others + _fact_rows_extra(sheet.case, f)
    else:
        listed = len(sheet.batch["cases"])
        if cut.cases is not None and listed > cut.cases:
            listed = cut.cases + 1  # the "……另有N件" row
        # The case list replaces the fact rows; its rows (with header and 合计) are a bit
        # taller than a line; the long-text box is shorter (7rem, about five lines).
        # Measured: 10 listed cases fit at 10.5pt, 19 at 8pt; this errs on the safe side.
        need = max(main, BATCH_BOX_LINES) + 1.15 * (listed + 2) - 7 + others
    attached = len(sheet.attachments)
    if cut.attachments is not None:
        attached = min(attached, cut.attachments + 1)
    # The masthead's unit and the foot's 填报人 wrap in half the page width.
    half = [sheet.unit_name, sheet.slip["filler_name"], sheet.slip["filler_phone"]]
    wrapped = sum(_lines(t, f, HALF_WIDTH_MM) - 1 for t in half)
    void = 2 if sheet.void else 0  # the 已作废 box under the title
    return need + max(0, attached - 1) + wrapped + void


def _fact_rows_extra(case: dict[str, Any], font_pt: float) -> int:
    """Lines beyond one per paired fact row, less the fund name's usual second line."""
    pairs = [("fund_name", "indicator_doc_no"), ("payee_name",), ("region", "department")]
    extra = sum(
        max(_lines(str(case.get(k) or ""), font_pt, NARROW_CELL_MM) for k in pair) - 1
        for pair in pairs
    )
    return max(0, extra - 1)


# Ever harder cuts of the parts besides the long text: lines of each other text, listed
# cases of a batch slip, listed attachments.
SIDE_CUTS = ((6, 16, 8), (4, 12, 6), (3, 8, 4), (2, 5, 3), (1, 3, 2))
MIN_MAIN_LINES = 6


def _plans(sheet: _Sheet):
    """Cuts to try in turn: the largest font the estimate allows, then ever harder cuts."""
    fonts = list(CAPACITY)
    for font_pt in fonts:
        if _need(sheet, _Cut(font_pt)) <= CAPACITY[font_pt] - 1:
            yield _Cut(font_pt)
            break
    # Too long for any size, or the estimate was optimistic: the smallest font, and cut
    # the other parts just enough that the long text keeps a fair share of the page.
    f = fonts[-1]
    room = CAPACITY[f] - 1
    main_full = _lines(_main_text(sheet), f)
    for other_lines, cases, attachments in SIDE_CUTS:
        others = _need(sheet, _Cut(f, 0, other_lines, cases, attachments))
        if sheet.batch:
            others -= BATCH_BOX_LINES  # counted in `others`, but the long text fills it
        main = min(main_full, int(room - others))
        if main >= min(main_full, MIN_MAIN_LINES) or other_lines == 1:
            for share in (1.0, 0.8, 0.6):
                yield _Cut(f, max(3, int(main * share)), other_lines, cases, attachments)
            break
    for main in (6, 3):
        yield _Cut(f, main, 1, 3, 2)


def _context(sheet: _Sheet, cut: _Cut) -> dict:
    f = cut.font_pt
    slip = dict(sheet.slip)
    for key in ("findings", "measures_detail"):
        slip[key] = _clip(slip[key], cut.main_lines, f)
    case = dict(sheet.case) if sheet.case else None
    if case:
        for key in ("purpose", "rule_basis"):
            case[key] = _clip(case[key], cut.other_lines, f)
    batch = dict(sheet.batch) if sheet.batch else None
    if batch:
        batch["rule_basis"] = _clip(batch["rule_basis"], cut.other_lines, f)
        if cut.cases is not None and len(batch["cases"]) > cut.cases:
            batch["hidden"] = len(batch["cases"]) - cut.cases
            batch["cases"] = batch["cases"][: cut.cases]
    names = sheet.attachments
    shown = names if cut.attachments is None else names[: cut.attachments]
    if cut.attachments is not None:
        shown = [n if len(n) <= 60 else n[:57] + "…" for n in shown]
    supervisor = dict(sheet.supervisor, opinion=_clip(sheet.supervisor["opinion"], cut.other_lines, f))
    return {
        "title": TITLES[SlipKind(slip["kind"])],
        "font_pt": f,
        "slip": slip,
        "unit_name": sheet.unit_name,
        "case": case,
        "batch": batch,
        "attachments": shown,
        "attachments_hidden": len(names) - len(shown),
        "handler": sheet.handler,
        "supervisor": supervisor,
        "void": sheet.void,
        "blank_date": BLANK_DATE,
        "clipped_note": CLIPPED_NOTE,
        "enums": enums,
    }


def _layout(context: dict):
    html = _env.get_template("slip.html").render(context)
    return layout(html, _css)


def _fit(sheet: _Sheet) -> bytes:
    document = None
    tried: set[_Cut] = set()
    for cut in _plans(sheet):
        if cut in tried:
            continue
        tried.add(cut)
        document = _layout(_context(sheet, cut))
        if len(document.pages) == 1:
            return document.write_pdf()
    # Only an absurdly long short field (a name, a number) gets here; the promise is one
    # page, so the first page it is.
    return document.copy(document.pages[:1]).write_pdf()
