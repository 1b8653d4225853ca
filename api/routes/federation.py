"""Report exchange between deployments (/api/v1/federation).

`POST /federation/reports` takes no user login: the signed token is the credential, checked
by workflows.federation.exchange.receive_report (refusals are 400/401/403/409 with a Chinese message
and a code). The rest is the administrator's: our public key, the peers, the pushes.
"""

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from models.federation import PeerRelation, PushStatus
from workflows.core.clock import now_utc
from workflows.core.roles import ADMINS
from workflows.federation import exchange as federation
from workflows.federation import keys as federation_keys

from ..deps import CurrentActor, SessionDep, SettingsDep, allow
from ..params import Id
from .answers import Answer, MonthText

router = APIRouter(prefix="/federation", tags=["系统对接"])
ADMIN = [Depends(allow(ADMINS))]


class SignedReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=20, max_length=2_000_000)


class ReceiptOut(BaseModel):
    received_id: int
    receipt: str
    message: str


@router.post("/reports", response_model=ReceiptOut)
def receive(body: SignedReport, session: SessionDep, settings: SettingsDep) -> ReceiptOut:
    """A child deployment's signed monthly report; answers with our signed receipt."""
    received = federation.receive_report(
        session, token=body.token, as_of=now_utc(), settings=settings
    )
    return ReceiptOut(
        received_id=received.id,
        receipt=received.receipt,
        message=f"已接收{received.region_name}{federation.month_label(received.month)}月报（第{received.version}版）",
    )


class KeyOut(BaseModel):
    deployment_id: str
    kid: str | None
    algorithm: str
    public_pem: str | None
    created_at: str | None


def _key_out(session, settings) -> KeyOut:
    key = federation_keys.current_key(session)
    return KeyOut(
        deployment_id=settings.deployment_id,
        kid=key.kid if key else None,
        algorithm=federation_keys.ALGORITHM,
        public_pem=key.public_pem if key else None,
        created_at=key.created_at.isoformat() if key else None,
    )


@router.get("/key", response_model=KeyOut, dependencies=ADMIN)
def show_key(session: SessionDep, settings: SettingsDep) -> KeyOut:
    """This deployment's id and public key, to hand to the other side."""
    return _key_out(session, settings)


@router.post("/key", response_model=KeyOut, status_code=201, dependencies=ADMIN)
def new_key(actor: CurrentActor, session: SessionDep, settings: SettingsDep) -> KeyOut:
    """Generate a new signing key pair (the previous one stops signing)."""
    federation_keys.generate_key(session, actor=actor, as_of=now_utc())
    return _key_out(session, settings)


class PeerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment_id: str = Field(max_length=64)
    name: str = Field(max_length=128)
    relation: PeerRelation
    public_pem: str = Field(max_length=4000)
    base_url: str | None = Field(default=None, max_length=255)
    region_code: str | None = Field(default=None, max_length=12)


class PeerOut(Answer):
    id: int
    deployment_id: str
    name: str
    relation: PeerRelation
    kid: str
    base_url: str | None
    region_id: int | None
    active: bool


@router.get("/peers", response_model=list[PeerOut], dependencies=ADMIN)
def peers(session: SessionDep) -> list[PeerOut]:
    return [PeerOut.model_validate(p) for p in federation_keys.list_peers(session)]


@router.post("/peers", response_model=PeerOut, status_code=201, dependencies=ADMIN)
def add_peer(body: PeerIn, actor: CurrentActor, session: SessionDep) -> PeerOut:
    """Register (or update) a parent or child deployment and its public key."""
    peer = federation_keys.register_peer(
        session, actor=actor, data=federation_keys.PeerInput(**body.model_dump()), as_of=now_utc()
    )
    return PeerOut.model_validate(peer)


class PushOut(Answer):
    id: int
    status: PushStatus
    attempts: int
    last_error: str | None
    peer_name: str
    region_name: str
    month: MonthText
    version: int
    report_id: int


@router.get("/pushes", response_model=list[PushOut], dependencies=ADMIN)
def pushes(
    session: SessionDep, status: Literal["pending", "sending", "sent", "dead"] | None = None
) -> list[PushOut]:
    """Pushes to parent deployments, newest first (status=dead: the failed ones)."""
    rows = federation.list_pushes(session, status=PushStatus(status) if status else None)
    return [PushOut.model_validate(r) for r in rows]


@router.post("/pushes/{push_id}/retry", status_code=202, dependencies=ADMIN)
def retry(push_id: Id, session: SessionDep) -> dict:
    """Send a dead push again."""
    federation.retry_push(session, push_id=push_id, as_of=now_utc())
    return {"id": push_id, "status": PushStatus.PENDING.value}
