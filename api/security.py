"""Session tokens: a JWT (python-jose, HS256 with the settings' secret) carrying the user id."""

from datetime import datetime, timedelta

from jose import JWTError, jwt

from models.settings import Settings

ALGORITHM = "HS256"
AUDIENCE = "warnflow"


def create_token(user_id: int, *, settings: Settings, now: datetime) -> tuple[str, int]:
    """A signed token for this user; returns (token, seconds until it expires)."""
    lifetime = timedelta(minutes=settings.session_minutes)
    claims = {"sub": str(user_id), "aud": AUDIENCE, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM), int(lifetime.total_seconds())


def read_token(token: str, *, settings: Settings) -> int | None:
    """The user id a valid, unexpired token names; None for anything else."""
    try:
        claims = jwt.decode(token, settings.signing_key(), algorithms=[ALGORITHM], audience=AUDIENCE)
        return int(claims["sub"])
    except (JWTError, KeyError, ValueError):
        return None
