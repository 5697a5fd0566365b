"""Access rules: who may call a route. Every route declares one with :func:`allow`.

The rule object is attached to the dependency, so tests (and ``critmat routes``) can read the
rule of every route from the app's own route table; a route without a rule fails the
authorization-matrix test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from critmat.platform import audit
from critmat.platform.models import Role

ALL_ROLES: frozenset[Role] = frozenset(Role)


@dataclass(frozen=True)
class AccessRule:
    """``public``: no login needed. Otherwise the user must be logged in and hold one of
    ``roles``. ``own_org_param`` names a path parameter holding an organisation id that must
    be the user's own (admins see every organisation)."""

    name: str
    public: bool = False
    roles: frozenset[Role] = ALL_ROLES
    own_org_param: str | None = None

    def admits(self, role: Role | None, own_org: bool) -> bool:
        """Whether a user with ``role`` (None: anonymous) passes, for own or another org."""
        if self.public:
            return True
        if role is None or role not in self.roles:
            return False
        return self.own_org_param is None or own_org or role is Role.admin


PUBLIC = AccessRule("public", public=True)
#: Public statistics: every logged-in user, whatever the role.
LOGGED_IN = AccessRule("logged-in")
ADMIN = AccessRule("admin", roles=frozenset({Role.admin}))
#: Data an organisation owns: its own members and admins.
OWN_ORG = AccessRule("own-organisation", own_org_param="org_id")

#: Company assessments: the organisation's company users, and admins.
COMPANY_ASSESSMENTS = AccessRule(
    "company-assessments",
    roles=frozenset({Role.company, Role.admin}),
    own_org_param="org_id",
)

#: Stockpile holdings an organisation owns (lots, journal, its own positions): the
#: organisation's members of the roles that hold stock, and admins. Others see aggregates only
#: (docs/stockpiles.md).
STOCKPILE_HOLDINGS = AccessRule(
    "stockpile-holdings",
    roles=frozenset({Role.member_state, Role.company, Role.analyst, Role.admin}),
    own_org_param="org_id",
)
#: Stockpile analysis over aggregates: sizing runs and release simulations.
STOCKPILE_ANALYSIS = AccessRule(
    "stockpile-analysis", roles=frozenset({Role.analyst, Role.member_state, Role.admin})
)

#: Audit entries about data with a narrower rule than the organisation's: action prefix -> the
#: rule of that data (the same object its routes enforce).
RESTRICTED_AUDIT: Mapping[str, AccessRule] = {audit.ASSESSMENT_ACTIONS: COMPANY_ASSESSMENTS}


def hidden_audit_actions(role: Role, own_org: bool) -> tuple[str, ...]:
    """The audit action prefixes a user with ``role`` may not see in an organisation's log
    (``own_org``: the user's own): those whose data's access rule does not admit the role."""
    return tuple(
        prefix for prefix, rule in RESTRICTED_AUDIT.items() if not rule.admits(role, own_org)
    )
