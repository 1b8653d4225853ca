"""Sending a monthly report to a parent deployment and receiving one from a child.

Sending: a report sent to the province queues one `federation_push` row per active parent
peer, in the sending transaction (`queue_pushes`); the push worker
(notifications/federation.py) signs the report (`push_token`), posts it, and checks the
parent's signed receipt (`check_receipt`). Receiving (`receive_report`): signature by the
sender's registered key, sender known, active and a child, audience us, freshness, replay
(one row per (peer, jti)) — then the report is stored, the province's users are told in
their inbox, and a receipt signed by us is returned.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import RegionLevel
from models.federation import (
    FederationPeer,
    FederationPush,
    PeerRelation,
    PushStatus,
    ReceivedReport,
)
from models.notifications import NotificationKind
from models.reports import MonthlyReport
from models.settings import Settings, get_settings
from workflows.core.errors import InvalidState, NotFound
from workflows.core.notify import news_for, queue
from workflows.core.roles import PROVINCE_RECIPIENTS
from workflows.federation.keys import (
    FederationRefused,
    check_fresh,
    current_key,
    sha256_of,
    sign,
    signing_key,
    timestamp,
    unverified_claims,
    verify,
)

SCHEMA = "warnflow.federation/1"
RECEIPT_SCHEMA = "warnflow.federation-receipt/1"
PUSH_PATH = "/api/v1/federation/reports"


def province_recipients(session: Session, *, region_path: str) -> list[int]:
    """Active users of the province above (or at) a region who receive its monthly reports:
    the province role, and the province's supervision and treasury."""
    return list(
        session.execute(
            sa.select(User.id)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .join(Region, Region.id == OrgUnit.region_id)
            .where(
                User.is_active,
                User.revoked_at.is_(None),
                User.role.in_(PROVINCE_RECIPIENTS),
                Region.level == RegionLevel.PROVINCE,
                sa.literal(region_path).startswith(Region.path),
            )
            .order_by(User.id)
        ).scalars()
    )


def month_label(month: date) -> str:
    return f"{month.year}年{month.month}月"


# ---------------------------------------------------------------- sending


def report_payload(session: Session, report: MonthlyReport) -> dict:
    """What a parent receives: the region, month, version and the (frozen) figures."""
    region = session.get(Region, report.region_id)
    return {
        "schema": SCHEMA,
        "region": {"code": region.code, "name": region.name, "level": str(region.level)},
        "month": f"{report.month:%Y-%m}",
        "version": report.version,
        "reason": report.reason,
        "figures": report.figures,
        "figures_sha256": report.figures_sha256 or sha256_of(report.figures),
        "sent_at": report.sent_at.isoformat() if report.sent_at else None,
    }


def queue_pushes(session: Session, *, report_id: int, region_code: str, as_of: datetime) -> int:
    """One pending push per active parent peer (INSERT … SELECT); how many were queued."""
    settings = get_settings()
    if settings.federation_region and settings.federation_region != region_code:
        return 0
    peers = FederationPeer.__table__
    pushes = FederationPush.__table__
    source = sa.select(
        sa.literal(report_id).label("report_id"),
        peers.c.id,
        sa.literal(PushStatus.PENDING.value).label("status"),
        sa.literal(0).label("attempts"),
        sa.literal(as_of, FederationPush.__table__.c.next_attempt_at.type).label("next_attempt_at"),
        sa.literal(as_of, FederationPush.__table__.c.created_at.type).label("created_at"),
    ).where(peers.c.relation == PeerRelation.PARENT.value, peers.c.active.is_(True))
    columns = ["report_id", "peer_id", "status", "attempts", "next_attempt_at", "created_at"]
    # RETURNING counts what went in on both databases (rowcount is -1 on psycopg here).
    inserted = session.execute(pushes.insert().from_select(columns, source).returning(pushes.c.id))
    return len(inserted.all())


@dataclass(frozen=True)
class PushRequest:
    push_id: int
    url: str
    token: str
    jti: str
    peer_deployment_id: str
    peer_public_pem: str


def push_token(session: Session, *, push_id: int, as_of: datetime) -> PushRequest:
    """The signed report for one push (a fresh jti per try)."""
    settings = get_settings()
    push = session.get(FederationPush, push_id)
    peer = session.get(FederationPeer, push.peer_id)
    report = session.get(MonthlyReport, push.report_id)
    key = signing_key(session)
    jti = uuid.uuid4().hex
    iat = timestamp(as_of)
    claims = {
        "iss": settings.deployment_id,
        "aud": peer.deployment_id,
        "iat": iat,
        "exp": iat + settings.federation_token_seconds,
        "jti": jti,
        "report": report_payload(session, report),
    }
    return PushRequest(
        push_id=push_id,
        url=f"{(peer.base_url or '').rstrip('/')}{PUSH_PATH}",
        token=sign(claims, key=key),
        jti=jti,
        peer_deployment_id=peer.deployment_id,
        peer_public_pem=peer.public_pem,
    )


def check_receipt(request: PushRequest, receipt: str) -> dict:
    """The parent's receipt claims, if signed by its registered key for our report's jti."""
    claims = verify(receipt, public_pem=request.peer_public_pem)
    settings = get_settings()
    if (
        claims.get("iss") != request.peer_deployment_id
        or claims.get("aud") != settings.deployment_id
    ):
        raise FederationRefused("回执的签发方或接收方不符", code="bad_receipt", status=502)
    if claims.get("jti") != request.jti:
        raise FederationRefused(
            "回执不是本次报送的回执（jti 不符）", code="bad_receipt", status=502
        )
    return claims


# ---------------------------------------------------------------- receiving


@dataclass(frozen=True)
class Received:
    id: int
    receipt: str
    region_name: str
    month: date
    version: int


def _sender(session: Session, claims: dict) -> FederationPeer:
    issuer = claims.get("iss")
    peer = None
    if isinstance(issuer, str):
        peer = session.execute(
            sa.select(FederationPeer).where(FederationPeer.deployment_id == issuer)
        ).scalar_one_or_none()
    if peer is None:
        raise FederationRefused(f"未登记的报送方：{issuer}", code="unknown_sender", status=401)
    return peer


def _payload(claims: dict) -> tuple[dict, date, int]:
    report = claims.get("report")
    try:
        month = date.fromisoformat(f"{report['month']}-01")
        version = int(report["version"])
        figures = report["figures"]
        if not isinstance(figures, dict) or not isinstance(report["region"], dict):
            raise TypeError("figures")
    except (KeyError, TypeError, ValueError):
        raise FederationRefused(
            "报送内容不完整：缺少区划、月份、版本或数据", code="malformed_report", status=400
        ) from None
    if report.get("figures_sha256") != sha256_of(figures):
        raise FederationRefused(
            "月报数据与其摘要（figures_sha256）不符", code="bad_digest", status=400
        )
    return report, month, version


def receive_report(
    session: Session, *, token: str, as_of: datetime, settings: Settings | None = None
) -> Received:
    """Verify a child's signed report, store it once, tell the province; our signed receipt."""
    settings = settings or get_settings()
    peer = _sender(session, unverified_claims(token))
    claims = verify(token, public_pem=peer.public_pem)
    if not peer.active:
        raise FederationRefused(f"报送方 {peer.name} 已停用", code="sender_inactive", status=403)
    if peer.relation != PeerRelation.CHILD:
        raise FederationRefused(
            f"{peer.name} 不是本系统的下级，不能向本系统报送", code="not_a_child", status=403
        )
    if claims.get("aud") != settings.deployment_id:
        raise FederationRefused(
            f"报送对象不是本系统（aud={claims.get('aud')}）", code="wrong_audience", status=403
        )
    check_fresh(claims, as_of=as_of, skew_seconds=settings.federation_skew_seconds)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 64:
        raise FederationRefused("签名数据缺少编号（jti）", code="malformed_token", status=400)
    report, month, version = _payload(claims)
    seen = session.execute(
        sa.select(ReceivedReport.id).where(
            ReceivedReport.peer_id == peer.id, ReceivedReport.jti == jti
        )
    ).first()
    if seen is not None:
        raise FederationRefused("该报送已收到过（重放），不予重复接收", code="replay", status=409)
    region = _region_of(session, peer, report["region"].get("code"))
    key = current_key(session)
    if key is None:  # the sender retries: our admin only has to make the key
        raise FederationRefused(
            "本系统尚未生成签名密钥，暂不能出具回执，请稍后重试", code="no_receipt_key", status=503
        )
    receipt = sign(
        {
            "iss": settings.deployment_id,
            "aud": peer.deployment_id,
            "iat": timestamp(as_of),
            "jti": jti,
            "received_at": as_of.isoformat(),
            "schema": RECEIPT_SCHEMA,
        },
        key=key,
    )
    row = ReceivedReport(
        peer_id=peer.id,
        jti=jti,
        region_id=region.id if region else None,
        month=month,
        version=version,
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        payload=report,
        token=token,
        receipt=receipt,
        received_at=as_of,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError:  # the same token in a concurrent request won the race
        raise FederationRefused(
            "该报送已收到过（重放），不予重复接收", code="replay", status=409
        ) from None
    region_name = region.name if region else str(report["region"].get("name") or peer.name)
    _tell_province(session, row, region, region_name, as_of)
    return Received(
        id=row.id, receipt=receipt, region_name=region_name, month=month, version=version
    )


def _region_of(session: Session, peer: FederationPeer, code) -> Region | None:
    """The child's region in our tree: the reported code if it lies within the peer's region."""
    home = session.get(Region, peer.region_id) if peer.region_id else None
    if isinstance(code, str):
        region = session.execute(sa.select(Region).where(Region.code == code)).scalar_one_or_none()
        if region is not None and (home is None or region.path.startswith(home.path)):
            return region
    return home


def _tell_province(
    session: Session, row: ReceivedReport, region: Region | None, region_name: str, as_of: datetime
) -> None:
    path = region.path if region else "/"
    users = province_recipients(session, region_path=path)
    subject = f"收到{region_name}{month_label(row.month)}预警情况月报（第{row.version}版）"
    queue(
        session,
        as_of=as_of,
        items=news_for(
            users,
            kind=NotificationKind.OTHER,
            subject=subject,
            body=f"{region_name}通过系统对接报送了{month_label(row.month)}的月报，签名已核验。",
            key=f"received-report:{row.id}",
            link=f"/ledger/received/{row.id}",
        ),
    )


def received_reports(session: Session, *, region_path: str, month: date | None = None) -> list:
    """Reports received from children within a region subtree, newest first."""
    query = (
        sa.select(
            ReceivedReport.id,
            ReceivedReport.month,
            ReceivedReport.version,
            ReceivedReport.received_at,
            ReceivedReport.payload,
            FederationPeer.name.label("peer_name"),
            Region.name.label("region_name"),
            Region.code.label("region_code"),
        )
        .join(FederationPeer, FederationPeer.id == ReceivedReport.peer_id)
        .outerjoin(Region, Region.id == ReceivedReport.region_id)
        .where(sa.or_(Region.path.startswith(region_path), Region.id.is_(None)))
        .order_by(ReceivedReport.received_at.desc(), ReceivedReport.id.desc())
    )
    if month is not None:
        query = query.where(ReceivedReport.month == month)
    return list(session.execute(query).all())


# Headline figures a parent adds up over what its children sent (counts and 元 amounts).
RECEIVED_COUNTS = ("cases", "raised", "resolved", "open_at_end", "overdue", "rectified")
RECEIVED_AMOUNTS = ("amount_involved_yuan", "amount_recovered_yuan")


def received_summary(session: Session, *, region_path: str, month: date) -> dict | None:
    """What children's deployments reported for a month within a region (the latest version
    per child region), with their headline totals; None if nothing was received.

    A parent's own monthly report carries this as figures["received"] (workflows/reporting/chain.py),
    beside — not added into — the figures of the cases in its own database."""
    latest: dict[object, tuple] = {}
    for row in received_reports(session, region_path=region_path, month=month):
        key = row.region_code or row.peer_name
        if key not in latest or row.version > latest[key].version:
            latest[key] = row
    if not latest:
        return None
    reports, totals = [], dict.fromkeys(RECEIVED_COUNTS, 0)
    amounts = dict.fromkeys(RECEIVED_AMOUNTS, Decimal("0.00"))
    for row in sorted(latest.values(), key=lambda r: (r.region_code or "", r.peer_name)):
        headline = (row.payload.get("figures") or {}).get("headline") or {}
        for name in RECEIVED_COUNTS:
            totals[name] += int(headline.get(name) or 0)
        for name in RECEIVED_AMOUNTS:
            amounts[name] += Decimal(str(headline.get(name) or "0"))
        reports.append({
            "received_id": row.id, "peer": row.peer_name,
            "region": {"code": row.region_code, "name": row.region_name},
            "version": row.version, "received_at": row.received_at.isoformat(),
            "figures_sha256": row.payload.get("figures_sha256"),
            "headline": {k: headline.get(k) for k in (*RECEIVED_COUNTS, *RECEIVED_AMOUNTS)},
        })  # fmt: skip
    totals.update({k: str(v) for k, v in amounts.items()})
    return {"reports": reports, "totals": totals}


# ---------------------------------------------------------------- the admin's view of pushes


def list_pushes(session: Session, *, status: PushStatus | None = None, limit: int = 200) -> list:
    query = (
        sa.select(
            FederationPush.id,
            FederationPush.status,
            FederationPush.attempts,
            FederationPush.next_attempt_at,
            FederationPush.last_error,
            FederationPush.sent_at,
            FederationPush.created_at,
            FederationPeer.name.label("peer_name"),
            MonthlyReport.month,
            MonthlyReport.version,
            MonthlyReport.id.label("report_id"),
            Region.name.label("region_name"),
        )
        .join(FederationPeer, FederationPeer.id == FederationPush.peer_id)
        .join(MonthlyReport, MonthlyReport.id == FederationPush.report_id)
        .join(Region, Region.id == MonthlyReport.region_id)
        .order_by(FederationPush.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(FederationPush.status == status)
    return list(session.execute(query).all())


def retry_push(session: Session, *, push_id: int, as_of: datetime) -> None:
    """An admin sends a dead push again (after fixing the address or the key)."""
    updated = session.execute(
        sa.update(FederationPush)
        .where(FederationPush.id == push_id, FederationPush.status == PushStatus.DEAD)
        .values(status=PushStatus.PENDING, attempts=0, next_attempt_at=as_of, claimed_at=None)
    ).rowcount
    if not updated:
        raise InvalidState("只有推送失败的记录可以重新推送")


def received_report(session: Session, *, actor, received_id: int):
    """One received report, if it lies in the actor's region (404 otherwise)."""
    row = session.execute(
        sa.select(
            ReceivedReport,
            FederationPeer.name.label("peer_name"),
            FederationPeer.deployment_id,
            Region.name.label("region_name"),
            Region.path.label("region_path"),
        )
        .join(FederationPeer, FederationPeer.id == ReceivedReport.peer_id)
        .outerjoin(Region, Region.id == ReceivedReport.region_id)
        .where(ReceivedReport.id == received_id)
    ).one_or_none()
    if row is None or not actor.sees_region(row.region_path or "/"):
        raise NotFound("收到的月报不存在")
    return row
