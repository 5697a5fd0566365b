"""Platform administration: ``users``, ``orgs``, ``db`` and ``serve`` (the web UI and API).

The platform modules (SQLAlchemy, Alembic, Argon2, FastAPI, uvicorn) load inside the commands.
``users_app``, ``orgs_app`` and ``db_app`` are added to the main app, and ``serve`` registered,
by :mod:`critmat.cli`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

import sys
from typing import Annotated

import typer

from critmat import __version__
from critmat.cli_output import Format, emit_rows, iso, out, user_errors
from critmat.commands.columns import columns
from critmat.commands.options import FormatOpt
from critmat.config import get_settings

users_app = typer.Typer(help="Platform users (admin).", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations (admin).", no_args_is_help=True)
db_app = typer.Typer(help="The platform database.", no_args_is_help=True)

CLI_ACTOR = "cli"


def _platform_url() -> str:
    return get_settings().platform_url


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the platform database to the newest schema."""
    from sqlalchemy.engine import make_url

    from critmat.platform.db import upgrade

    url = _platform_url()
    with user_errors():
        revision = upgrade(url)
    out.print(f"platform database at schema {revision} ({make_url(url).render_as_string()})")


@orgs_app.command("add")
def orgs_add(
    name: Annotated[str, typer.Argument(help="Organisation name.")],
    kind: Annotated[str, typer.Option(help="agency, company, supplier, research, ...")] = "other",
    country: Annotated[str | None, typer.Option(help="Country (ISO3 or name).")] = None,
) -> None:
    """Add an organisation."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction
    from critmat.reference.countries import resolve_country

    with user_errors():
        ensure_current(_platform_url())
        iso3 = resolve_country(country) if country else None
        with transaction(_platform_url()) as db:
            org = accounts.create_org(db, name, kind=kind, country=iso3, actor=CLI_ACTOR)
            org_id = org.id
    out.print(f"organisation {org_id}: {name}")


@orgs_app.command("list")
def orgs_list(fmt: FormatOpt = Format.table) -> None:
    """List organisations."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            rows = [
                {
                    "id": o.id,
                    "name": o.name,
                    "kind": o.kind,
                    "country": o.country,
                    "users": len(o.users),
                }
                for o in accounts.list_orgs(db)
            ]
    emit_rows(
        rows,
        fmt,
        "Organisations",
        columns("id", "name", "kind", "country", "users"),
    )


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="E-mail address (the login).")],
    role: Annotated[str, typer.Option(help="admin, analyst, member_state, company, supplier.")],
    org: Annotated[str, typer.Option(help="Organisation id or name.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user. Without --password-stdin a random password is generated and printed once."""
    from critmat.platform import accounts, security
    from critmat.platform.db import ensure_current, transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password, generated = security.generate_password(), True
    with user_errors():
        ensure_current(_platform_url())
        parsed_role = accounts.parse_role(role)
        with transaction(_platform_url()) as db:
            organisation = accounts.get_org(db, org)
            user = accounts.create_user(
                db,
                email,
                password,
                role=parsed_role,
                organisation=organisation,
                name=name,
                actor=CLI_ACTOR,
            )
            summary = f"user {user.id}: {user.email} ({user.role}, {organisation.name})"
    out.print(summary)
    if generated:
        out.print(f"password (shown once): {password}", highlight=False)


@users_app.command("list")
def users_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List users."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            org_id = accounts.get_org(db, org).id if org else None
            rows = [
                {
                    "id": u.id,
                    "email": u.email,
                    "name": u.name,
                    "role": u.role,
                    "organisation": u.organisation.name,
                    "disabled": u.disabled,
                    "last_login_at": iso(u.last_login_at),
                }
                for u in accounts.list_users(db, org_id)
            ]
    emit_rows(
        rows,
        fmt,
        "Users",
        columns("id", "email", "role", "organisation", "disabled", "last_login_at"),
    )


@users_app.command("disable")
def users_disable(
    email: Annotated[str, typer.Argument(help="E-mail or id of the user.")],
) -> None:
    """Disable a user: ends their sessions and revokes their API tokens."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            user = accounts.get_user(db, email)
            accounts.set_disabled(db, user, True, actor=CLI_ACTOR)
            address = user.email
    out.print(f"disabled {address}")


@users_app.command("unlock")
def users_unlock(
    email: Annotated[str, typer.Argument(help="E-mail or id of the user.")],
    address: Annotated[
        str | None,
        typer.Option(help="Also clear the throttle of this client address (all accounts)."),
    ] = None,
) -> None:
    """Clear the login throttle of a user (from every address), so they can log in at once."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            removed = accounts.unlock(db, email, address=address, actor=CLI_ACTOR)
    out.print(f"unlocked {email.strip().lower()} ({removed} login counters cleared)")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    migrate: Annotated[
        bool, typer.Option(help="Migrate the platform database before starting.")
    ] = True,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated addresses of reverse proxies whose X-Forwarded-For is "
            "believed (default: $CRITMAT_TRUSTED_PROXIES; none: the headers are ignored)."
        ),
    ] = None,
) -> None:
    """Start the web UI and the JSON API (one process)."""
    import uvicorn

    from critmat.platform.bootstrap import ensure_first_admin
    from critmat.platform.db import upgrade
    from critmat.server.app import create_app
    from critmat.server.run import proxy_options

    settings = get_settings()
    with user_errors():
        if migrate:
            upgrade(settings.platform_url)
        first = ensure_first_admin(settings.platform_url)
        application = create_app(settings)
    url = f"http://{host}:{port}/"
    out.print(f"critmat {__version__} serving {url}  (API: {url}api/v1/docs)")
    if first is not None:
        out.print(
            f"first start: log in as [bold]{first.email}[/] with password "
            f"[bold]{first.password}[/] (shown once; add users with `critmat users add`)"
        )
    proxies = None if trusted_proxies is None else trusted_proxies.split(",")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        **proxy_options(settings, proxies),
    )
