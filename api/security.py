"""Session tokens: a JWT (python-jose, HS256 with the settings' secret) carrying the user id
and the account's session epoch (a token of an earlier epoch is refused: api/deps.py)."""

from datetime import datetime, timedelta

from jose import JWTError, jwt

from models.settings import Settings

ALGORITHM = "HS256"
AUDIENCE = "warnflow"


# A token missing any of these is refused (python-jose checks exp and aud only when present).
REQUIRED = {"require_exp": True, "require_aud": True, "require_iat": True, "require_sub": True}


def create_token(user_id: int, *, epoch: int, settings: Settings, now: datetime) -> tuple[str, int]:
    """A signed token for this user; returns (token, seconds until it expires)."""
    lifetime = timedelta(minutes=settings.session_minutes)
    claims = {"sub": str(user_id), "aud": AUDIENCE, "iat": now, "exp": now + lifetime, "sep": epoch}
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM), int(lifetime.total_seconds())


def read_token(token: str, *, settings: Settings) -> tuple[int, int] | None:
    """(user id, session epoch) of a valid, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(token, settings.signing_key(), algorithms=[ALGORITHM], audience=AUDIENCE,
                            options=REQUIRED)  # fmt: skip
        return int(claims["sub"]), int(claims["sep"])
    except (JWTError, KeyError, TypeError, ValueError):
        return None
