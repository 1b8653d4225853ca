"""The monthly summary's arithmetic: counting cases into accumulators, the rates with their
numerators and denominators, amounts in 万元, medians, and the assessment score of a region
(Henan art. 19) with its formula printed from the weights in settings.
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from models.enums import STATE_LEVEL, State
from models.settings import get_settings
from workflows.reporting.queries import GroupRow

RED_OPEN = frozenset({State.RED_LIGHT, State.RECTIFYING, State.RECTIFICATION_REVIEW, State.REVERIFY_REVIEW})
WEIGHT_KEYS = ("on_time", "rectification", "overdue")
# What each weight is called in print (the setting's own names stay out of the document).
WEIGHT_NAMES = {"on_time": "按期办结率权重", "rectification": "整改率权重", "overdue": "超期控制权重"}
TEN_THOUSAND = Decimal(10000)
CENT = Decimal("0.01")

DEFINITIONS = {
    "scope": "统计范围：月初仍未办结或本月产生的预警，按月末（北京时间月末 24:00）的状态统计。",
    "raised": "本月产生：产生时间在本月内的预警。",
    "resolved": "本月办结：本月内办结（认定正常、整改完成、警铃解除或移交）的预警。",
    "overdue": "月末超期：月末仍未办结，且当前环节办理期限早于月末最后一天的预警。",
    "on_time_rate": (
        "按期办结率 = 本月办结且办结日不晚于所在环节办理期限的预警数 ÷ 本月办结的预警数"
        "（无办理期限的环节办结的计为按期）。"
    ),
    "overdue_rate": "超期率 = 月末超期未办结的预警数 ÷ 月末未办结的预警数。",
    "rectification_rate": (
        "整改率 = 本月整改完成的预警数 ÷（本月整改完成的预警数 + 月末仍处于红灯待整改、"
        "整改中、整改待审核的预警数）。"
    ),
    "amounts": (
        "预警支付金额：统计范围内预警所涉支付的金额合计；涉及金额：本月填报、结论为违规的核实"
        "处理单所列涉及金额；收回金额：本月填报的整改处理单所列收回金额。批量处理单只计一次。"
        "单位万元，保留两位小数。"
    ),
    "durations": (
        "核实用时：本月办结的预警自产生至首次提交核实处理单的工作日数；整改用时：本月整改完成的"
        "预警自转为红灯至整改审核通过的工作日数；均取中位数，按工作日历（含调休）计算。"
    ),
    "empty_rate": "分母为零时该比率记为“—”，计算考核得分时按 100% 计。",
}


# -- accumulating ---------------------------------------------------------------------


@dataclass
class Acc:
    in_scope: int = 0
    open: int = 0
    raised: int = 0
    resolved: int = 0
    overdue: int = 0
    rectified: int = 0
    red_open: int = 0
    on_time: int = 0
    involved: Decimal = Decimal(0)
    recovered: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    verify_days: list[int] = field(default_factory=list)
    rectify_days: list[int] = field(default_factory=list)
    matrix: Counter = field(default_factory=Counter)  # (level, category, state) → cases
    rules: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))

    def add_group(self, row: GroupRow, category: str) -> None:
        self.in_scope += row.in_scope
        self.raised += row.raised
        self.resolved += row.resolved
        self.overdue += row.overdue
        self.rectified += row.rectified
        self.paid += row.paid
        is_open = row.state.is_open
        if is_open:
            self.open += row.in_scope
        if row.state in RED_OPEN:
            self.red_open += row.in_scope
        self.matrix[(STATE_LEVEL[row.state].value, category, row.state.value)] += row.in_scope
        counts = self.rules[row.rule_id]
        counts[0] += row.raised
        counts[1] += row.resolved
        counts[2] += row.in_scope if is_open else 0
        counts[3] += row.overdue

    def merge(self, other: "Acc") -> None:
        for name in ("in_scope", "open", "raised", "resolved", "overdue", "rectified", "red_open",
                     "on_time", "involved", "recovered", "paid"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.verify_days.extend(other.verify_days)
        self.rectify_days.extend(other.rectify_days)
        self.matrix.update(other.matrix)
        for rule_id, counts in other.rules.items():
            mine = self.rules[rule_id]
            for i, n in enumerate(counts):
                mine[i] += n


def rate(numerator: int, denominator: int) -> dict:
    percent = None
    if denominator:
        value = Decimal(numerator) * 100 / Decimal(denominator)
        percent = str(value.quantize(CENT, ROUND_HALF_UP))
    return {"numerator": numerator, "denominator": denominator, "percent": percent}


def wan(amount: Decimal) -> str:
    return str((amount / TEN_THOUSAND).quantize(CENT, ROUND_HALF_UP))


def median(values: list[int]) -> str | None:
    if not values:
        return None
    return str(Decimal(str(statistics.median(values))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def headline_of(acc: Acc) -> dict:
    return {
        "cases": acc.in_scope,
        "open_at_end": acc.open,
        "raised": acc.raised,
        "resolved": acc.resolved,
        "overdue": acc.overdue,
        "rectified": acc.rectified,
        "on_time_rate": rate(acc.on_time, acc.resolved),
        "overdue_rate": rate(acc.overdue, acc.open),
        "rectification_rate": rate(acc.rectified, acc.rectified + acc.red_open),
        "amount_paid_wan": wan(acc.paid),
        "amount_involved_wan": wan(acc.involved),
        "amount_recovered_wan": wan(acc.recovered),
        "amount_involved_yuan": str(acc.involved.quantize(CENT)),
        "amount_recovered_yuan": str(acc.recovered.quantize(CENT)),
        "amount_paid_yuan": str(acc.paid.quantize(CENT)),
        "median_verify_days": median(acc.verify_days),
        "median_rectify_days": median(acc.rectify_days),
        "verify_samples": len(acc.verify_days),
        "rectify_samples": len(acc.rectify_days),
    }


def assessment_weights() -> dict[str, int]:
    weights = get_settings().assessment_weights
    return {key: int(weights.get(key, 0)) for key in WEIGHT_KEYS}


def assessment_formula(weights: dict[str, int]) -> str:
    return (
        f"考核得分 = {weights['on_time']} × 按期办结率 + {weights['rectification']} × 整改率"
        f" + {weights['overdue']} × (1 − 超期率)；分母为零的比率按 100% 计；满分"
        f" {sum(weights.values())} 分（"
        + "、".join(f"{WEIGHT_NAMES[key]} {weights[key]}" for key in WEIGHT_KEYS)
        + "，由系统设置）。"
    )


def assessment_score(headline: dict, weights: dict[str, int]) -> str:
    def fraction(rate: dict, *, inverse: bool = False) -> Decimal:
        if not rate["denominator"]:
            return Decimal(1)
        value = Decimal(rate["numerator"]) / Decimal(rate["denominator"])
        return 1 - value if inverse else value

    score = (
        weights["on_time"] * fraction(headline["on_time_rate"])
        + weights["rectification"] * fraction(headline["rectification_rate"])
        + weights["overdue"] * fraction(headline["overdue_rate"], inverse=True)
    )
    return str(score.quantize(CENT, ROUND_HALF_UP))
