"""Report exchange between warnflow deployments (a county's, a city's, the province's).

Each deployment signs what it sends with its own asymmetric key (JWS, python-jose); an admin
exchanges public keys and registers the other side as a peer. Pushes wait in their own outbox
and are retried; what a deployment receives is stored once per (sender, token id) so a
replayed token is refused.
"""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import _LABELS, Labeled
from .types import UTCDateTime, enum_column, utcnow


class PeerRelation(Labeled):
    PARENT = "parent"  # we send our reports to it (the province)
    CHILD = "child"  # it sends its reports to us


class PushStatus(Labeled):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


_LABELS[PeerRelation] = {PeerRelation.PARENT: "上级", PeerRelation.CHILD: "下级"}
_LABELS[PushStatus] = {
    PushStatus.PENDING: "待推送",
    PushStatus.SENDING: "推送中",
    PushStatus.SENT: "已送达",
    PushStatus.DEAD: "推送失败",
}


class FederationKey(SQLModel, table=True):
    """This deployment's own signing key pair; the newest active one signs."""

    __tablename__ = "federation_key"

    id: int | None = Field(default=None, primary_key=True)
    kid: str = Field(max_length=64, unique=True)
    algorithm: str = Field(default="ES256", max_length=16)
    private_pem: str = Field(sa_type=sa.Text)
    public_pem: str = Field(sa_type=sa.Text)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FederationPeer(SQLModel, table=True):
    """Another deployment we exchange reports with, and the public key it signs with."""

    __tablename__ = "federation_peer"

    id: int | None = Field(default=None, primary_key=True)
    # The sender id it puts in its tokens (`iss`), e.g. "henan-province".
    deployment_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=128)
    relation: PeerRelation = Field(sa_type=enum_column(PeerRelation))
    kid: str = Field(max_length=64)
    algorithm: str = Field(default="ES256", max_length=16)
    public_pem: str = Field(sa_type=sa.Text)
    # A parent's base URL; we post to {base_url}/api/v1/federation/reports.
    base_url: str | None = Field(default=None, max_length=255)
    # A child's region in our tree (the region its reports are about).
    region_id: int | None = Field(default=None, foreign_key="region.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FederationPush(SQLModel, table=True):
    """One report version to deliver to one parent; claimed and retried like the outbox."""

    __tablename__ = "federation_push"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "peer_id", name="uq_federation_push_report_peer"),
        sa.Index("ix_federation_push_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="monthly_report.id")
    peer_id: int = Field(foreign_key="federation_peer.id")
    status: PushStatus = Field(sa_type=enum_column(PushStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    # The parent's signed receipt (a JWS), kept as proof of delivery.
    receipt: str | None = Field(default=None, sa_type=sa.Text)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReceivedReport(SQLModel, table=True):
    """A child's signed report as received and verified; `jti` refuses replays."""

    __tablename__ = "received_report"
    __table_args__ = (
        sa.UniqueConstraint("peer_id", "jti", name="uq_received_report_peer_jti"),
        sa.Index("ix_received_report_month_region", "month", "region_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    peer_id: int = Field(foreign_key="federation_peer.id")
    jti: str = Field(max_length=64)
    region_id: int | None = Field(default=None, foreign_key="region.id")
    month: date
    version: int
    issued_at: datetime = Field(sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    token: str = Field(sa_type=sa.Text)
    receipt: str = Field(sa_type=sa.Text)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
