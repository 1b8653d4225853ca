"""The product's vocabulary: every enumerated value with its Chinese label.

Values are stored as strings (VARCHAR, no native enum) so migrations stay simple on
SQLite and PostgreSQL; `label` is what users read.
"""

from enum import StrEnum


class Labeled(StrEnum):
    """A string enum whose members carry the Chinese word users see."""

    @property
    def label(self) -> str:
        return _LABELS[type(self)][self]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class RegionLevel(Labeled):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"


class OrgKind(Labeled):
    BUDGET = "budget"
    TREASURY = "treasury"
    AGRI_FINANCE = "agri_finance"
    SUPERVISION = "supervision"
    POVERTY_OFFICE = "poverty_office"
    LEADERSHIP = "leadership"
    OTHER = "other"


class Role(Labeled):
    ADMIN = "admin"
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    TREASURY = "treasury"
    POVERTY_OFFICE = "poverty_office"
    SUPERVISION = "supervision"
    LEADER = "leader"
    PROVINCE = "province"
    AUDITOR = "auditor"
    INTEGRATION = "integration"
    # Not a login: the actor of events the system raises by itself (deadline sweeps).
    SYSTEM = "system"


class RuleCategory(Labeled):
    INDICATOR = "indicator"
    EXPENDITURE = "expenditure"
    PERFORMANCE = "performance"
    HOUSEHOLD = "household"


class Level(Labeled):
    YELLOW_BELL = "yellow_bell"
    YELLOW_LIGHT = "yellow_light"
    RED_LIGHT = "red_light"
    GREEN = "green"


class WarningType(Labeled):
    INDICATOR_RECEIPT = "indicator_receipt"
    INDICATOR_ALLOCATION = "indicator_allocation"
    CASH_EXPENDITURE = "cash_expenditure"
    ACCOUNT_RISK = "account_risk"
    PAYMENT_CYCLE = "payment_cycle"
    FUND_RISK = "fund_risk"
    ENTERPRISE_RISK = "enterprise_risk"
    PERSONAL_RISK = "personal_risk"


class State(Labeled):
    YELLOW_BELL = "yellow_bell"
    YELLOW_LIGHT = "yellow_light"
    VERIFYING = "verifying"
    RED_LIGHT = "red_light"
    RECTIFYING = "rectifying"
    RECTIFICATION_REVIEW = "rectification_review"
    # A normal conclusion on a large payment, waiting for the supervisor's sign-off.
    NORMAL_REVIEW = "normal_review"
    # A bell's duty reported done on time by a person (not by the platform's data), waiting
    # for the supervisor's sign-off before the bell clears.
    CLEARANCE_REVIEW = "clearance_review"
    # The handler asked to verify again (a wrong conclusion); the supervisor decides.
    REVERIFY_REVIEW = "reverify_review"
    GREEN = "green"
    CLEARED = "cleared"
    TRANSFERRED = "transferred"

    @property
    def level(self) -> Level:
        return STATE_LEVEL[self]

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STATES


class Event(Labeled):
    RAISE = "raise"
    COMPLETE_DUTY = "complete_duty"
    BELL_DEADLINE_PASSED = "bell_deadline_passed"
    START_VERIFY = "start_verify"
    SUBMIT_VERIFICATION = "submit_verification"
    START_RECTIFY = "start_rectify"
    SUBMIT_RECTIFICATION = "submit_rectification"
    APPROVE_RECTIFICATION = "approve_rectification"
    REJECT_RECTIFICATION = "reject_rectification"
    TRANSFER = "transfer"
    REASSIGN = "reassign"
    # A failed spot check (抽查) sends a rectified case back to rectification.
    REOPEN = "reopen"
    # The deadline ladder (Changchun art. 18, 23): the sweep raises levels 1 and 2; the
    # supervisor decides a level-2 request; handlers ask for more time.
    ESCALATE = "escalate"
    ESCALATE_TO_BUREAU = "escalate_to_bureau"
    REJECT_ESCALATION = "reject_escalation"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    # A rectification slip amended after its sign-off or while in review (workflows/cases/amend.py).
    SLIP_AMENDED = "slip_amended"
    # 重新核实: a wrong violation conclusion corrected by a new verification slip.
    REQUEST_REVERIFY = "request_reverify"
    APPROVE_REVERIFY = "approve_reverify"
    REJECT_REVERIFY = "reject_reverify"
    # 认定正常 above the review amount: the supervisor signs the verification slip.
    APPROVE_NORMAL = "approve_normal"
    REJECT_NORMAL = "reject_normal"
    # An administrator's calendar change moved the open deadline (workflows/escalation/replan.py).
    DEADLINE_REPLANNED = "deadline_replanned"
    # 按时履职 reported by a person: the supervisor clears the bell or sends it back.
    APPROVE_CLEARANCE = "approve_clearance"
    REJECT_CLEARANCE = "reject_clearance"


class RequestKind(Labeled):
    ESCALATION = "escalation"
    EXTENSION = "extension"


class RequestDecision(Labeled):
    REASSIGN = "reassign"
    EXTEND = "extend"
    ESCALATE = "escalate"
    REJECT = "reject"
    # Not a supervisor's decision: the case closed while the request waited.
    CLOSED_WITH_CASE = "closed_with_case"
    # Nor this: a calendar change moved the deadline, so the case is no longer that late.
    WITHDRAWN = "withdrawn"


class AuditKind(Labeled):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED = "locked"
    LOGOUT = "logout"
    PASSWORD_RESET = "password_reset"
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"
    USER_REVOKED = "user_revoked"
    RULE_CHANGED = "rule_changed"
    CALENDAR_CHANGED = "calendar_changed"
    WHITELIST_CHANGED = "whitelist_changed"
    ROUTING_CHANGED = "routing_changed"
    FEDERATION_CHANGED = "federation_changed"
    PASSWORD_CHANGED = "password_changed"
    APPLICATION_CHANGED = "application_changed"


class ApplicationKind(Labeled):
    OPEN = "open"
    CHANGE = "change"
    REVOKE = "revoke"


class ApplicationStatus(Labeled):
    # 申请 → 处室负责人审核 → 管理员审批（办理）; either may refuse.
    SUBMITTED = "submitted"
    HEAD_APPROVED = "head_approved"
    APPROVED = "approved"
    REFUSED = "refused"


class Resolution(Labeled):
    NORMAL = "normal"
    RECTIFIED = "rectified"
    CLEARED = "cleared"
    TRANSFERRED = "transferred"


class SlipKind(Labeled):
    VERIFICATION = "verification"
    RECTIFICATION = "rectification"


class AmountBasis(Labeled):
    """How a batch slip's amounts are meant: for each case it covers, or for all together."""

    PER_CASE = "per_case"
    TOTAL = "total"


class SignoffDecision(Labeled):
    APPROVED = "approved"
    SENT_BACK = "sent_back"


class Conclusion(Labeled):
    NORMAL = "normal"
    VIOLATION = "violation"


class VerifyMethod(Labeled):
    PHONE = "phone"
    DOCUMENTS = "documents"
    SITE_VISIT = "site_visit"
    SYSTEM_DATA = "system_data"


class ViolationType(Labeled):
    IDLE_FUNDS = "idle_funds"
    MISAPPROPRIATION = "misappropriation"
    FALSE_CLAIM = "false_claim"
    OVER_STANDARD = "over_standard"
    INELIGIBLE_RECIPIENT = "ineligible_recipient"
    IRREGULAR_CASH = "irregular_cash"
    LATE_ALLOCATION = "late_allocation"
    DATA_ERROR = "data_error"
    OTHER = "other"


class Measure(Labeled):
    CORRECTED = "corrected"
    FUNDS_RECOVERED = "funds_recovered"
    DISBURSEMENT_SUSPENDED = "disbursement_suspended"
    NOTICE_CIRCULATED = "notice_circulated"
    TRANSFERRED = "transferred"


class WhitelistKind(Labeled):
    PAYEE = "payee"
    ACCOUNT = "account"


class DayKind(Labeled):
    HOLIDAY = "holiday"
    WORKDAY = "workday"


STATE_LEVEL: dict[State, Level] = {
    State.YELLOW_BELL: Level.YELLOW_BELL,
    State.YELLOW_LIGHT: Level.YELLOW_LIGHT,
    State.VERIFYING: Level.YELLOW_LIGHT,
    State.RED_LIGHT: Level.RED_LIGHT,
    State.RECTIFYING: Level.RED_LIGHT,
    State.RECTIFICATION_REVIEW: Level.RED_LIGHT,
    State.REVERIFY_REVIEW: Level.RED_LIGHT,
    State.NORMAL_REVIEW: Level.YELLOW_LIGHT,
    State.CLEARANCE_REVIEW: Level.YELLOW_BELL,
    # Handed to other authorities: still counts as red in statistics.
    State.TRANSFERRED: Level.RED_LIGHT,
    State.GREEN: Level.GREEN,
    State.CLEARED: Level.GREEN,
}
CLOSED_STATES = frozenset({State.GREEN, State.CLEARED, State.TRANSFERRED})
OPEN_STATES = tuple(s for s in State if s not in CLOSED_STATES)


# A case's escalation level (Changchun art. 18, 23) in the words people use.
ESCALATION_LEVELS: dict[int, str] = {1: "一级督办", 2: "二级督办", 3: "提请监督局"}


def escalation_words(level: int | None) -> str:
    """"一级督办" for 1, …; empty for no escalation."""
    if not level:
        return ""
    return ESCALATION_LEVELS.get(level, f"{level}级督办")


def event_words(event: "Event", data: dict | None = None) -> str:
    """An event as a timeline says it: an escalation names its level."""
    level = (data or {}).get("level")
    if event == Event.ESCALATE and level:
        return f"{event.label}（{escalation_words(level)}）"
    return event.label


def states_of_level(level: Level) -> list[State]:
    return [s for s, lv in STATE_LEVEL.items() if lv == level]


_LABELS: dict[type, dict] = {
    RegionLevel: {
        RegionLevel.PROVINCE: "省",
        RegionLevel.CITY: "市",
        RegionLevel.COUNTY: "县（区）",
        RegionLevel.TOWNSHIP: "乡镇",
    },
    OrgKind: {
        OrgKind.BUDGET: "预算部门",
        OrgKind.TREASURY: "国库部门",
        OrgKind.AGRI_FINANCE: "农财部门",
        OrgKind.SUPERVISION: "监督检查部门",
        OrgKind.POVERTY_OFFICE: "脱贫办",
        OrgKind.LEADERSHIP: "局领导",
        OrgKind.OTHER: "其他",
    },
    Role: {
        Role.ADMIN: "系统管理员",
        Role.HANDLER: "经办人",
        Role.SUPERVISOR: "处室负责人",
        Role.TREASURY: "国库处",
        Role.POVERTY_OFFICE: "脱贫办",
        Role.SUPERVISION: "监督检查局",
        Role.LEADER: "局领导",
        Role.PROVINCE: "省财政厅",
        Role.AUDITOR: "审计查阅",
        Role.INTEGRATION: "接口账户",
        Role.SYSTEM: "系统",
    },
    RuleCategory: {
        RuleCategory.INDICATOR: "指标管理",
        RuleCategory.EXPENDITURE: "支出管理",
        RuleCategory.PERFORMANCE: "绩效管理",
        RuleCategory.HOUSEHOLD: "到人到户",
    },
    Level: {
        Level.YELLOW_BELL: "黄色警铃",
        Level.YELLOW_LIGHT: "黄灯",
        Level.RED_LIGHT: "红灯",
        Level.GREEN: "绿灯",
    },
    WarningType: {
        WarningType.INDICATOR_RECEIPT: "指标接收",
        WarningType.INDICATOR_ALLOCATION: "指标分配",
        WarningType.CASH_EXPENDITURE: "现金支出",
        WarningType.ACCOUNT_RISK: "账户风险",
        WarningType.PAYMENT_CYCLE: "支付周期",
        WarningType.FUND_RISK: "资金风险",
        WarningType.ENTERPRISE_RISK: "企业风险",
        WarningType.PERSONAL_RISK: "个人风险",
    },
    State: {
        State.YELLOW_BELL: "黄色警铃",
        State.YELLOW_LIGHT: "黄灯待核实",
        State.VERIFYING: "核实中",
        State.RED_LIGHT: "红灯待整改",
        State.RECTIFYING: "整改中",
        State.RECTIFICATION_REVIEW: "整改待审核",
        State.REVERIFY_REVIEW: "重新核实待审核",
        State.NORMAL_REVIEW: "认定正常待审核",
        State.CLEARANCE_REVIEW: "解除警铃待审核",
        State.GREEN: "绿灯（已办结）",
        State.CLEARED: "警铃已解除",
        State.TRANSFERRED: "已移交",
    },
    Event: {
        Event.RAISE: "产生预警",
        Event.COMPLETE_DUTY: "报送按时履职",
        Event.BELL_DEADLINE_PASSED: "警铃到期转为预警",
        Event.START_VERIFY: "开始核实",
        Event.SUBMIT_VERIFICATION: "提交核实处理单",
        Event.START_RECTIFY: "开始整改",
        Event.SUBMIT_RECTIFICATION: "提交整改处理单",
        Event.APPROVE_RECTIFICATION: "审核通过整改",
        Event.REJECT_RECTIFICATION: "退回整改",
        Event.TRANSFER: "移交其他部门",
        Event.REASSIGN: "改派经办人",
        Event.REOPEN: "抽查未通过，重新整改",
        Event.ESCALATE: "逾期升级",
        Event.ESCALATE_TO_BUREAU: "提请监督检查局督办",
        Event.REJECT_ESCALATION: "驳回升级请求",
        Event.REQUEST_EXTENSION: "申请延期",
        Event.APPROVE_EXTENSION: "批准延期",
        Event.REJECT_EXTENSION: "驳回延期申请",
        Event.SLIP_AMENDED: "处理单已修改，需重新审核",
        Event.REQUEST_REVERIFY: "申请重新核实",
        Event.APPROVE_REVERIFY: "同意重新核实",
        Event.REJECT_REVERIFY: "驳回重新核实申请",
        Event.APPROVE_NORMAL: "同意认定正常",
        Event.REJECT_NORMAL: "退回重新核实",
        Event.DEADLINE_REPLANNED: "节假日调整期限",
        Event.APPROVE_CLEARANCE: "同意解除警铃",
        Event.REJECT_CLEARANCE: "退回，警铃未解除",
    },
    RequestKind: {
        RequestKind.ESCALATION: "逾期升级请求",
        RequestKind.EXTENSION: "延期申请",
    },
    RequestDecision: {
        RequestDecision.REASSIGN: "改派经办人",
        RequestDecision.EXTEND: "延长期限",
        RequestDecision.ESCALATE: "提请监督检查局督办",
        RequestDecision.REJECT: "驳回",
        RequestDecision.CLOSED_WITH_CASE: "案件已办结，自动关闭",
        RequestDecision.WITHDRAWN: "节假日调整期限，自动撤回",
    },
    AuditKind: {
        AuditKind.LOGIN: "登录",
        AuditKind.LOGIN_FAILED: "登录失败",
        AuditKind.LOCKED: "账户锁定",
        AuditKind.LOGOUT: "退出登录",
        AuditKind.PASSWORD_RESET: "重置密码",
        AuditKind.USER_CREATED: "开通账户",
        AuditKind.USER_CHANGED: "变更账户",
        AuditKind.USER_REVOKED: "停用账户",
        AuditKind.RULE_CHANGED: "修改规则",
        AuditKind.CALENDAR_CHANGED: "修改工作日历",
        AuditKind.WHITELIST_CHANGED: "修改白名单",
        AuditKind.ROUTING_CHANGED: "修改分派规则",
        AuditKind.FEDERATION_CHANGED: "修改上下级报送设置",
        AuditKind.PASSWORD_CHANGED: "修改本人密码",
        AuditKind.APPLICATION_CHANGED: "账户申请审批",
    },
    ApplicationKind: {
        ApplicationKind.OPEN: "开通",
        ApplicationKind.CHANGE: "变更",
        ApplicationKind.REVOKE: "注销",
    },
    ApplicationStatus: {
        ApplicationStatus.SUBMITTED: "待处室负责人审核",
        ApplicationStatus.HEAD_APPROVED: "待管理员审批",
        ApplicationStatus.APPROVED: "已办理",
        ApplicationStatus.REFUSED: "未通过",
    },
    Resolution: {
        Resolution.NORMAL: "认定正常",
        Resolution.RECTIFIED: "已整改",
        Resolution.CLEARED: "警铃解除",
        Resolution.TRANSFERRED: "已移交",
    },
    SlipKind: {
        SlipKind.VERIFICATION: "核实处理单",
        SlipKind.RECTIFICATION: "整改处理单",
    },
    AmountBasis: {
        AmountBasis.PER_CASE: "每件金额",
        AmountBasis.TOTAL: "合计金额",
    },
    SignoffDecision: {
        SignoffDecision.APPROVED: "同意",
        SignoffDecision.SENT_BACK: "退回",
    },
    Conclusion: {
        Conclusion.NORMAL: "正常",
        Conclusion.VIOLATION: "违规",
    },
    VerifyMethod: {
        VerifyMethod.PHONE: "电话核实",
        VerifyMethod.DOCUMENTS: "调阅材料",
        VerifyMethod.SITE_VISIT: "实地核查",
        VerifyMethod.SYSTEM_DATA: "系统数据比对",
    },
    ViolationType: {
        ViolationType.IDLE_FUNDS: "资金闲置",
        ViolationType.MISAPPROPRIATION: "挤占挪用",
        ViolationType.FALSE_CLAIM: "虚报冒领",
        ViolationType.OVER_STANDARD: "超标准发放",
        ViolationType.INELIGIBLE_RECIPIENT: "发放对象不符",
        ViolationType.IRREGULAR_CASH: "违规提现",
        ViolationType.LATE_ALLOCATION: "指标下达不及时",
        ViolationType.DATA_ERROR: "数据录入错误",
        ViolationType.OTHER: "其他",
    },
    Measure: {
        Measure.CORRECTED: "已纠正",
        Measure.FUNDS_RECOVERED: "收回资金",
        Measure.DISBURSEMENT_SUSPENDED: "暂缓拨付",
        Measure.NOTICE_CIRCULATED: "通报",
        Measure.TRANSFERRED: "移交",
    },
    WhitelistKind: {
        WhitelistKind.PAYEE: "收款人",
        WhitelistKind.ACCOUNT: "账户",
    },
    DayKind: {
        DayKind.HOLIDAY: "节假日",
        DayKind.WORKDAY: "工作日（调休上班）",
    },
}
