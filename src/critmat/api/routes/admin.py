"""Administration: users, organisations, the audit log (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from critmat.api.routes.auth import UserOut, user_out
from critmat.api.rows import from_row
from critmat.platform import accounts, audit
from critmat.platform.models import AuditEntry, Organisation, Role
from critmat.server.access import hidden_audit_actions
from critmat.server.deps import AdminCaller, DbDep, OwnOrgCaller, client_ip, forget_user
from critmat.server.errors import responses
from critmat.server.params import NO_NUL, DbId, DbIdField, Limit, UtcDateTime

router = APIRouter(prefix="/api/v1", tags=["admin"])


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    kind: str = Field(default="other", max_length=40, pattern=NO_NUL)
    country: str | None = Field(default=None, min_length=3, max_length=3, pattern=NO_NUL)


class OrgOut(BaseModel):
    id: int
    name: str
    kind: str
    country: str | None
    created_at: UtcDateTime


class OrgDetailOut(OrgOut):
    members: list[UserOut]


class UserIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=NO_NUL)
    password: str = Field(min_length=10, max_length=1024)
    role: Role
    organisation_id: DbIdField
    name: str = Field(default="", max_length=200, pattern=NO_NUL)


class AuditOut(BaseModel):
    id: int
    at: UtcDateTime
    actor: str
    action: str
    target: str
    ip: str | None
    organisation_id: int | None
    details: dict[str, Any]


def org_out(org: Organisation) -> OrgOut:
    return from_row(OrgOut, org)


def audit_out(entry: AuditEntry) -> AuditOut:
    return from_row(AuditOut, entry, details=dict(entry.details or {}))


@router.get("/admin/users", response_model=list[UserOut])
def list_users(db: DbDep, _p: AdminCaller) -> list[UserOut]:
    """Every user of the platform."""
    return [user_out(u) for u in accounts.list_users(db)]


@router.post("/admin/users", response_model=UserOut, status_code=201, responses=responses(400, 404))
def create_user(body: UserIn, request: Request, db: DbDep, principal: AdminCaller) -> UserOut:
    """Create a user in an organisation with a role."""
    org = accounts.get_org(db, body.organisation_id)
    user = accounts.create_user(
        db,
        body.email,
        body.password,
        role=body.role,
        organisation=org,
        name=body.name,
        actor=principal.actor,
        ip=client_ip(request),
    )
    return user_out(user)


@router.post(
    "/admin/users/{user_id}/disable",
    response_model=UserOut,
    responses=responses(404, 409),
)
def disable_user(user_id: DbId, request: Request, db: DbDep, principal: AdminCaller) -> UserOut:
    """Disable a user: ends their sessions and revokes their API tokens. The last active
    administrator cannot be disabled (409)."""
    user = accounts.get_user(db, user_id)
    try:
        accounts.set_disabled(db, user, True, actor=principal.actor, ip=client_ip(request))
    except accounts.LastAdminError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{exc} ({exc.hint})") from exc
    forget_user(request, user.id)
    return user_out(user)


@router.get("/admin/orgs", response_model=list[OrgOut])
def list_orgs(db: DbDep, _p: AdminCaller) -> list[OrgOut]:
    """Every organisation."""
    return [org_out(o) for o in accounts.list_orgs(db)]


@router.post("/admin/orgs", response_model=OrgOut, status_code=201, responses=responses(400))
def create_org(body: OrgIn, request: Request, db: DbDep, principal: AdminCaller) -> OrgOut:
    """Create an organisation."""
    org = accounts.create_org(
        db,
        body.name,
        kind=body.kind,
        country=body.country,
        actor=principal.actor,
        ip=client_ip(request),
    )
    return org_out(org)


@router.get("/admin/audit", response_model=list[AuditOut])
def audit_log(db: DbDep, _p: AdminCaller, limit: Limit = 100) -> list[AuditOut]:
    """The newest audit entries: who wrote what, when and from where."""
    return [audit_out(e) for e in audit.entries(db, limit)]


@router.get("/orgs/{org_id}", response_model=OrgDetailOut)
def organisation(org_id: DbId, db: DbDep, _p: OwnOrgCaller) -> OrgDetailOut:
    """Your organisation and its members (admins: any organisation)."""
    org = accounts.get_org(db, org_id)
    members = [user_out(u) for u in accounts.list_users(db, org.id)]
    return OrgDetailOut(**org_out(org).model_dump(), members=members)


@router.get("/orgs/{org_id}/audit", response_model=list[AuditOut])
def organisation_audit(
    org_id: DbId, db: DbDep, principal: OwnOrgCaller, limit: Limit = 100
) -> list[AuditOut]:
    """The audit entries of your organisation; entries about data your role may not see
    (company assessments: company users and admins only) are left out."""
    accounts.get_org(db, org_id)
    hidden = hidden_audit_actions(principal.role, principal.organisation_id == org_id)
    entries = audit.entries(db, limit, organisation_id=org_id, hide_actions=hidden)
    return [audit_out(e) for e in entries]
