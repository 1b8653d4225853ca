"""People and machine accounts. One role, one org unit each (DOMAIN.md "Who uses it")."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from .enums import Role
from .types import UTCDateTime, enum_column, utcnow


class UserBase(SQLModel):
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=64)
    role: Role = Field(sa_type=enum_column(Role))
    position: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)


class User(UserBase, table=True):
    # "user" is reserved in PostgreSQL.
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    failed_login_count: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The person who holds the account (责任可追溯); accounts opened before persons were
    # recorded have none.
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    # Set by an administrator's reset (a one-time password): nothing but changing it is
    # allowed until the holder has chosen their own.
    must_change_password: bool = False
    # Every session token carries the epoch it was issued in; logging out, a password set or
    # reset and a revocation bump it, which ends every earlier session of the account at once.
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class UserPublic(UserBase):
    id: int
    org_unit_id: int
    is_active: bool
