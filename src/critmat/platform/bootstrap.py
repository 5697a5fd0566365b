"""First start: an administrator account when the platform has no users yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from critmat.errors import UnknownNameError
from critmat.platform import accounts, security
from critmat.platform.db import transaction
from critmat.platform.models import Role, User

FIRST_ADMIN_EMAIL = "admin@critmat.local"
FIRST_ORG = "Platform administrators"


@dataclass(frozen=True)
class FirstAdmin:
    email: str
    password: str


def ensure_first_admin(url: str, actor: str = "critmat serve") -> FirstAdmin | None:
    """Create an administrator with a random password when no user exists.

    Returns the credentials (to print once) or ``None`` when users exist already.
    """
    with transaction(url) as db:
        if db.scalar(select(func.count()).select_from(User)):
            return None
        try:
            org = accounts.get_org(db, FIRST_ORG)
        except UnknownNameError:
            org = accounts.create_org(db, FIRST_ORG, kind="platform", actor=actor)
        password = security.generate_password()
        accounts.create_user(
            db,
            FIRST_ADMIN_EMAIL,
            password,
            role=Role.admin,
            organisation=org,
            name="First administrator",
            actor=actor,
        )
    return FirstAdmin(FIRST_ADMIN_EMAIL, password)
