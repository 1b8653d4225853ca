"""Report exchange between deployments: our signing key, the peers we trust, JWS in and out.

Each deployment signs with its own ES256 key pair (PEM, made with `cryptography`); an admin
hands our public key to the other side and registers theirs as a peer (parent: we send our
reports to it; child: it sends us its reports). Tokens are compact JWS (python-jose) whose
claims carry iss / aud / iat / exp / jti; freshness is checked against `as_of`, not the
wall clock, so every check can be replayed for a past moment.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jws
from jose.exceptions import JOSEError
from sqlmodel import Session

from models import Region
from models.enums import AuditKind
from models.federation import FederationKey, FederationPeer, PeerRelation
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.errors import DomainError, FieldError, InvalidInput, NotFound

ALGORITHM = "ES256"


class FederationRefused(DomainError):
    """A token from another deployment was refused; `code` says why (status 401/403/409)."""

    code = "federation_refused"
    status = 401

    def __init__(self, message: str, *, code: str, status: int):
        super().__init__(message, code=code)
        self.status = status


def canonical_json(data: Any) -> bytes:
    """The bytes a digest is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def sha256_of(data: Any) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


def key_id(public_pem: str) -> str:
    """A short fingerprint of a public key (SHA-256 of its DER form, 16 hex digits)."""
    public = serialization.load_pem_public_key(public_pem.encode())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


# ---------------------------------------------------------------- our key


def generate_key(session: Session, *, actor: Actor, as_of: datetime) -> FederationKey:
    """A new ES256 key pair for this deployment; it signs from now on (older ones retire).
    Audited."""
    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    session.execute(sa.update(FederationKey).where(FederationKey.active).values(active=False))
    key = FederationKey(
        kid=key_id(public_pem),
        algorithm=ALGORITHM,
        private_pem=private_pem,
        public_pem=public_pem,
        active=True,
        created_at=as_of,
    )
    session.add(key)
    session.flush()
    record(session, AuditKind.FEDERATION_CHANGED, as_of=as_of, actor=actor, action="keygen", kid=key.kid)
    return key


def current_key(session: Session) -> FederationKey | None:
    """The newest active key, or None before `warnflow federation keygen`."""
    return session.execute(
        sa.select(FederationKey)
        .where(FederationKey.active)
        .order_by(FederationKey.created_at.desc(), FederationKey.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def signing_key(session: Session) -> FederationKey:
    key = current_key(session)
    if key is None:
        raise NotFound("本系统尚未生成报送签名密钥，请管理员先运行 warnflow federation keygen")
    return key


# ---------------------------------------------------------------- peers


@dataclass(frozen=True)
class PeerInput:
    deployment_id: str
    name: str
    relation: PeerRelation
    public_pem: str
    base_url: str | None = None
    region_code: str | None = None


def register_peer(session: Session, *, actor: Actor, data: PeerInput, as_of: datetime) -> FederationPeer:
    """Register (or replace the key and address of) another deployment we trust. Audited."""
    errors = []
    deployment_id = (data.deployment_id or "").strip()
    if not deployment_id or len(deployment_id) > 64:
        errors.append(("deployment_id", "required", "请填写对方的系统标识（1 至 64 个字符）"))
    name = (data.name or "").strip()
    if not name:
        errors.append(("name", "required", "请填写对方的名称"))
    try:
        relation = PeerRelation(data.relation)
    except ValueError:
        relation = None
        errors.append(("relation", "invalid", "关系须为“上级”或“下级”"))
    kid = None
    try:
        kid = key_id(data.public_pem or "")
        public = serialization.load_pem_public_key((data.public_pem or "").encode())
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
            raise ValueError("not P-256")
    except (ValueError, TypeError):
        errors.append(
            ("public_pem", "invalid_key", "公钥无效：须为对方导出的 P-256（ES256）PEM 公钥")
        )
    base_url = (data.base_url or "").strip().rstrip("/") or None
    if relation == PeerRelation.PARENT:
        parts = urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(
                ("base_url", "required", "上级系统须填写访问地址（如 https://yj.czt.example.cn）")
            )
    region_id = None
    if data.region_code:
        region_id = session.execute(
            sa.select(Region.id).where(Region.code == data.region_code.strip())
        ).scalar_one_or_none()
        if region_id is None:
            errors.append(("region_code", "unknown_region", f"区划代码 {data.region_code} 不存在"))
    elif relation == PeerRelation.CHILD:
        errors.append(("region_code", "required", "下级系统须选择其所属区划"))
    if errors:
        raise InvalidInput(errors[0][2], errors=[FieldError(*e) for e in errors])
    peer = session.execute(
        sa.select(FederationPeer).where(FederationPeer.deployment_id == deployment_id)
    ).scalar_one_or_none()
    action = "add_peer" if peer is None else "update_peer"
    if peer is None:
        peer = FederationPeer(
            deployment_id=deployment_id,
            created_at=as_of,
            name=name,
            relation=relation,
            kid=kid,
            public_pem="",
        )
    peer.name, peer.relation, peer.kid, peer.algorithm = name, relation, kid, ALGORITHM
    peer.public_pem = data.public_pem.strip() + "\n"
    peer.base_url = base_url if relation == PeerRelation.PARENT else None
    peer.region_id = region_id
    peer.active = True
    session.add(peer)
    session.flush()
    record(session, AuditKind.FEDERATION_CHANGED, as_of=as_of, actor=actor, action=action,
           deployment_id=deployment_id, relation=relation.value, kid=kid, base_url=peer.base_url)
    return peer


def set_peer_active(
    session: Session, *, actor: Actor, peer_id: int, active: bool, as_of: datetime
) -> FederationPeer:
    """Stop trusting another deployment (its key and address are kept) or trust it again."""
    peer = session.get(FederationPeer, peer_id)
    if peer is None:
        raise NotFound("对方系统不存在")
    if peer.active != active:
        peer.active = active
        session.add(peer)
        session.flush()
        record(session, AuditKind.FEDERATION_CHANGED, as_of=as_of, actor=actor,
               action="enable_peer" if active else "disable_peer", deployment_id=peer.deployment_id)
    return peer


def list_peers(session: Session) -> list[FederationPeer]:
    return list(
        session.execute(
            sa.select(FederationPeer).order_by(FederationPeer.relation, FederationPeer.name)
        ).scalars()
    )


# ---------------------------------------------------------------- tokens


def timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def sign(claims: dict, *, key: FederationKey) -> str:
    """A compact JWS over the claims, with our key id in the header."""
    return jws.sign(claims, key.private_pem, headers={"kid": key.kid}, algorithm=ALGORITHM)


def unverified_claims(token: str) -> dict:
    """The claims before the signature is checked (only to find out who claims to send)."""
    try:
        claims = json.loads(jws.get_unverified_claims(token))
    except (JOSEError, ValueError, TypeError, UnicodeDecodeError):
        raise FederationRefused(
            "报送内容不是有效的签名数据（JWS）", code="malformed_token", status=400
        ) from None
    if not isinstance(claims, dict):
        raise FederationRefused(
            "报送内容不是有效的签名数据（JWS）", code="malformed_token", status=400
        )
    return claims


def verify(token: str, *, public_pem: str) -> dict:
    """The claims, if the token is signed by this public key; FederationRefused otherwise."""
    try:
        return json.loads(jws.verify(token, public_pem, algorithms=[ALGORITHM]))
    except (JOSEError, ValueError, TypeError):
        raise FederationRefused(
            "签名校验失败：内容被篡改或不是用登记的公钥签名", code="bad_signature", status=401
        ) from None


def check_fresh(claims: dict, *, as_of: datetime, skew_seconds: int) -> None:
    """iat not in the future and exp not past, both within the accepted clock difference."""
    now = timestamp(as_of)
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise FederationRefused("签名数据缺少签发时间或有效期", code="stale", status=401)
    if iat > now + skew_seconds or exp < now - skew_seconds:
        when = datetime.fromtimestamp(iat, UTC).isoformat()
        raise FederationRefused(
            f"签名数据已过期或时间不符（签发于 {when}），请对方重新报送", code="stale", status=401
        )
