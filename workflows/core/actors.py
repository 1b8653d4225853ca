"""Who is acting: a user's role, department and region, or the system itself."""

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import Role
from workflows.core.errors import NotFound
from workflows.core.roles import CASE_ACTORS


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: Role
    org_unit_id: int | None
    region_path: str
    name: str = ""
    # A one-time password not yet changed: the doors allow nothing but changing it.
    must_change_password: bool = False
    # The account's session epoch (models/users.py): a token of an older epoch is refused.
    session_epoch: int = 0

    @classmethod
    def system(cls) -> "Actor":
        return cls(user_id=None, role=Role.SYSTEM, org_unit_id=None, region_path="/", name="系统")

    @classmethod
    def operator(cls, name: str) -> "Actor":
        """Whoever runs the command line on the server, named by their OS account: an
        administrator of the whole tree (they may open the first administrator's account)."""
        return cls(user_id=None, role=Role.ADMIN, org_unit_id=None, region_path="/", name=name)

    @property
    def is_operator(self) -> bool:
        return self.user_id is None and self.role == Role.ADMIN

    def sees_region(self, region_path: str) -> bool:
        return region_path.startswith(self.region_path)

    def in_scope(self, *, region_path: str, org_unit_id: int) -> bool:
        """Whether a case in this region and department is this actor's to see or act on."""
        if not self.sees_region(region_path):
            return False
        return self.role not in CASE_ACTORS or self.org_unit_id == org_unit_id


def active_handlers(session: Session, *, unit_ids: Iterable[int]) -> dict[int, list[User]]:
    """The handlers (科员) a case of each of these departments may be given now: active
    accounts with the handler role, by id."""
    found: dict[int, list[User]] = {u: [] for u in unit_ids}
    if not found:
        return found
    users = session.scalars(
        sa.select(User)
        .where(User.org_unit_id.in_(found), User.role == Role.HANDLER, User.is_active.is_(True))
        .order_by(User.id)
    )
    for user in users:
        found[user.org_unit_id].append(user)
    return found


def load_actor(session: Session, user_id: int) -> Actor:
    """The acting identity of an active user."""
    row = session.connection().execute(
        sa.select(User.id, User.role, User.org_unit_id, User.full_name, User.must_change_password,
                  User.session_epoch, Region.path)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .join(Region, Region.id == OrgUnit.region_id)
        .where(User.id == user_id, User.is_active.is_(True))
    ).one_or_none()
    if row is None:
        raise NotFound("用户不存在或已停用")
    return Actor(
        user_id=row.id,
        role=Role(row.role),
        org_unit_id=row.org_unit_id,
        region_path=row.path,
        name=row.full_name,
        must_change_password=bool(row.must_change_password),
        session_epoch=row.session_epoch or 0,
    )
