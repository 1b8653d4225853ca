"""Account applications (/api/v1/account-applications): a department hands one in, its head
reviews it, the administrator approves (and so opens, changes or revokes the account)."""

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from forms.official_pdf import official_pdf
from models.enums import ApplicationKind, ApplicationStatus, Role
from workflows.admin import applications as account_applications
from workflows.admin.applications import HEAD_ROLES, SUBMITTERS, ApplicationRow
from workflows.admin.handover import Handover
from workflows.core.clock import now_utc
from workflows.core.roles import ADMINS
from workflows.reporting.staffing import keeps_chains_staffed

from ..deps import CurrentActor, SessionDep, allow
from ..params import Bool, Count, Id

router = APIRouter(prefix="/account-applications", tags=["账户申请"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicationIn(Strict):
    kind: ApplicationKind = Field(description="open 开通 / change 变更 / revoke 注销")
    org_unit_id: Id | None = Field(None, description="单位（处室）编号；开通必填，变更时为新处室")
    user_id: Id | None = Field(None, description="变更或注销的账户（用户编号）")
    full_name: str | None = Field(None, description="姓名（开通必填）")
    id_number: str | None = Field(None, description="身份证号（开通必填，18 位；只保存散列值）")
    position: str | None = Field(None, description="职务")
    phone: str | None = Field(None, description="联系电话")
    role: Role | None = Field(None, description="申请的权限（角色）；注销不填")
    username: str | None = Field(None, description="拟用用户名（开通必填）")
    reason: str = Field("", description="申请事由")
    handover_to_id: Id | None = Field(None, description="名下未办结预警移交给的经办人；不填则退回处室队列")


class HeadDecision(Strict):
    version: Count = Field(description="看到的申请版本（防止并发审批）")
    approve: Bool = Field(description="true 同意 / false 不同意")
    opinion: str = Field("", description="审核意见；不同意时必填")


class AdminDecision(HeadDecision):
    id_number: str | None = Field(None, description="开通时再次录入身份证号，须与申请表一致")
    handover_to_queue: Bool | None = Field(None, description="true：名下未办结预警退回处室待分派队列")


class DecisionOut(BaseModel):
    application: ApplicationRow
    generated_password: str | None = Field(description="开通时系统生成的一次性密码（仅此一次显示）")


ANYONE = [Depends(allow(SUBMITTERS))]


@router.get("", response_model=list[ApplicationRow], summary="账户申请列表", dependencies=ANYONE)
def list_applications(actor: CurrentActor, session: SessionDep, status: ApplicationStatus | None = None):
    return account_applications.list_applications(session, actor=actor, status=status)


@router.post("", response_model=ApplicationRow, status_code=201, summary="提交账户申请",
             dependencies=ANYONE)
def submit(body: ApplicationIn, actor: CurrentActor, session: SessionDep):
    return account_applications.submit_application(session, actor=actor, as_of=now_utc(),
                                                   **body.model_dump())


@router.get("/{application_id}", response_model=ApplicationRow, summary="查看账户申请",
            dependencies=ANYONE)
def get_application(application_id: Id, actor: CurrentActor, session: SessionDep):
    return account_applications.get_application(session, actor=actor, application_id=application_id)


@router.get("/{application_id}/pdf", summary="打印账户申请表（PDF）", dependencies=ANYONE,
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def application_pdf(application_id: Id, actor: CurrentActor, session: SessionDep) -> Response:
    row = account_applications.get_application(session, actor=actor, application_id=application_id)
    return Response(official_pdf("account_application.html", {"a": row}), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="account-application-{row.id}.pdf"'})


@router.post("/{application_id}/head-decision", response_model=ApplicationRow,
             summary="处室负责人审核", dependencies=[Depends(allow(HEAD_ROLES))])
def head_decide(application_id: Id, body: HeadDecision, actor: CurrentActor, session: SessionDep):
    return account_applications.head_decide(session, actor=actor, application_id=application_id,
                                            as_of=now_utc(), **body.model_dump())


@router.post("/{application_id}/admin-decision", response_model=DecisionOut, summary="管理员审批（办理）",
             dependencies=[Depends(allow(ADMINS))])
def admin_decide(application_id: Id, body: AdminDecision, actor: CurrentActor, session: SessionDep):
    handover = Handover(None) if body.handover_to_queue else None
    # A change or revocation may not leave a reporting region's chain with nobody to act.
    with keeps_chains_staffed(session):
        decided = account_applications.admin_decide(
            session, actor=actor, application_id=application_id, version=body.version,
            approve=body.approve, opinion=body.opinion, id_number=body.id_number, handover=handover,
            as_of=now_utc(),
        )
    return DecisionOut(application=decided.application, generated_password=decided.generated_password)
