"""Request and response bodies of the administration API (/api/v1/admin/...).

Requests refuse unknown fields; ranges and cross-field rules are checked in workflows/ so
that the HTML admin pages refuse the same things with the same Chinese words.
"""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from models.enums import DayKind, Level, OrgKind, RuleCategory, WarningType, WhitelistKind

from ..params import Bool, Id, IsoDate


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- users ------------------------------------------------------------------------------


class UserEmailChange(Strict):
    """The only thing an administrator changes directly: where notices are mailed."""

    email: str | None = Field(None, description="电子邮箱（接收通知）")


class PasswordReset(Strict):
    password: str | None = Field(None, description="一次性密码；不填则由系统生成，仅显示一次。持有人首次登录须修改")


class PasswordResetDone(BaseModel):
    generated_password: str | None = Field(description="系统生成的一次性密码（仅此一次显示）；自行设定时为空")


# -- rules ------------------------------------------------------------------------------


class RuleFields(Strict):
    name: str | None = Field(None, description="规则名称")
    category: RuleCategory | None = Field(None, description="规则分类")
    level: Level | None = Field(None, description="预警级别：黄色警铃、黄灯或红灯")
    warning_type: WarningType | None = Field(None, description="预警类型（决定整改处室）")
    theme: str | None = Field(None, description="监控主题")
    description: str | None = Field(None, description="规则描述")
    basis: str | None = Field(None, description="规则依据")
    scope: str | None = Field(None, description="适用范围")
    handling_party: str | None = Field(None, description="预警处理人")
    verify_days: int | None = Field(None, description="核实期限（工作日，1–60）")
    rectify_days: int | None = Field(None, description="整改期限（工作日，1–120）")
    review_days: int | None = Field(None, description="审核期限（工作日，1–30）")
    bell_lead_days: int | None = Field(None, description="黄色警铃提前天数（工作日，0–30）")
    bell_becomes: Level | None = Field(None, description="黄色警铃到期未履职时转为：黄灯或红灯")
    active_from: IsoDate | None = Field(None, description="生效日期")
    active_until: IsoDate | None = Field(None, description="失效日期")
    is_active: Bool | None = Field(None, description="是否启用")


class RuleCreate(RuleFields):
    code: str = Field(description="规则编码（唯一）")
    name: str = Field(description="规则名称")
    category: RuleCategory = Field(description="规则分类")
    level: Level = Field(description="预警级别：黄色警铃、黄灯或红灯")
    warning_type: WarningType = Field(description="预警类型（决定整改处室）")
    active_from: IsoDate = Field(description="生效日期")


class RuleChange(RuleFields):
    code: str | None = Field(None, description="规则编码（唯一）")


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    category: RuleCategory
    level: Level
    warning_type: WarningType
    theme: str
    description: str
    basis: str
    scope: str
    handling_party: str
    verify_days: int | None
    rectify_days: int | None
    review_days: int | None
    bell_lead_days: int | None
    bell_becomes: Level | None
    active_from: date
    active_until: date | None
    is_active: bool
    updated_at: datetime


# -- calendar, whitelist, routing -------------------------------------------------------


class CalendarDayIn(Strict):
    kind: DayKind = Field(description="holiday 节假日 / workday 调休上班")
    name: str = Field("", description="名称，例如“春节”")


class CalendarDayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: date
    kind: DayKind
    name: str
    set_by_id: int | None
    set_at: datetime


class CalendarChangeOut(CalendarDayOut):
    cases_replanned: int = Field(description="随之调整办理期限的在办案件数")
    escalations_withdrawn: int = Field(description="其中因原期限产生、现已撤回督办的案件数")


class NoticeIn(Strict):
    notice: str = Field(description="国务院办公厅《关于YYYY年部分节假日安排的通知》全文")
    save: Bool = Field(False, description="true：识别后保存为工作日历调整；false：只识别，不保存（预览）")


class NoticeDayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: date
    kind: DayKind
    name: str
    line: int = Field(description="通知原文中的行号")


class NoticeOut(BaseModel):
    year: int
    items: list[str] = Field(description="通知所列节日，如“国庆节、中秋节”")
    days: list[NoticeDayOut]
    holidays: int
    workdays: int
    warnings: list[str]
    saved: bool
    replaced: int = Field(description="已有调整被替换的天数（预览时为将被替换的天数）")
    cases_replanned: int = Field(0, description="随之调整办理期限的在办案件数（预览时为 0）")


class WhitelistIn(Strict):
    kind: WhitelistKind = Field(description="payee 收款人 / account 账户")
    value: str = Field(description="收款人名称（至少 2 个字）或账户（8–32 位数字，可含空格或连字符）")
    reason: str = Field(description="理由")
    rule_code: str | None = Field(None, description="只对该规则免于预警；不填则对全部规则")
    approved_by_id: Id = Field(description="审批人（用户编号）：处室负责人、监督检查局、领导或省厅账户")
    valid_until: IsoDate | None = Field(None, description="有效期至（不早于今天）；不填为长期有效")


class WhitelistChange(Strict):
    is_active: Bool = Field(description="false 撤销，true 恢复")


class RouteIn(Strict):
    org_kind: OrgKind = Field(description="负责整改的处室类别")

