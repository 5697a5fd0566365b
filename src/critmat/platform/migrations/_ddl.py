"""DDL building blocks the platform revisions share (tables with an ``id`` key, the columns
that recur across tables, plain indexes).

A revision must build the same schema forever, so a helper is never changed once a revision
calls it: a revision that needs something else gets a helper of its own. The revisions import
this module by its full name (``critmat.platform.migrations._ddl``); Alembic loads every other
file of ``versions/`` as a revision, so it lives beside ``env.py`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

#: Characters of an e-mail address column (RFC 5321 caps a forward path at 254).
EMAIL_LENGTH = 254
#: Characters of a client address column (an IPv6 address as text, with room for a zone).
IP_LENGTH = 64
#: Characters of a sha256 column (64 hexadecimal digits).
SHA256_HEX_LENGTH = 64


def email_address(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """An e-mail address column (lower-cased by the accounts layer before it is stored)."""
    return sa.Column(name, sa.String(length=EMAIL_LENGTH), nullable=nullable)


def client_address() -> sa.Column[Any]:
    """The ``ip`` column: the client's address as text, NULL when there is none (the CLI)."""
    return sa.Column("ip", sa.String(length=IP_LENGTH), nullable=True)


def sha256_hex(name: str) -> sa.Column[Any]:
    """A required sha256 digest as hexadecimal text (of a token or an uploaded file)."""
    return sa.Column(name, sa.String(length=SHA256_HEX_LENGTH), nullable=False)


def utc_time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A point in time (the platform stores naive UTC)."""
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def references(column: str, target: str, *, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """The foreign key of ``column`` on ``target`` (``"table.column"``)."""
    return sa.ForeignKeyConstraint([column], [target], ondelete=ondelete)


def create_id_table(
    name: str,
    *columns: sa.Column[Any],
    foreign_keys: Sequence[sa.ForeignKeyConstraint] = (),
    unique: Sequence[str] = (),
) -> None:
    """``CREATE TABLE name``: an integer primary key ``id``, then ``columns``; the foreign
    keys, the primary key and a unique constraint on each column named in ``unique``."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        *columns,
        *foreign_keys,
        sa.PrimaryKeyConstraint("id"),
        *(sa.UniqueConstraint(column) for column in unique),
    )


def create_indexes(table: str, *columns: str) -> None:
    """A plain index ``ix_<table>_<column>`` on each of ``columns``, in that order."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def drop_indexed_table(table: str, *indexed: str) -> None:
    """Undo ``create_indexes(table, *indexed)`` (last index first), then drop ``table``."""
    if indexed:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(indexed):
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    op.drop_table(table)


#: The indexed columns of ``login_attempts``.
LOGIN_ATTEMPTS_INDEXED = ("at", "email", "ip")


def create_login_attempts() -> None:
    """``login_attempts`` as revision 0001 made it (one row per failed login); 0004 replaces
    it by ``login_throttle`` and its downgrade makes it again."""
    create_id_table(
        "login_attempts",
        email_address("email"),
        client_address(),
        utc_time("at"),
    )
    create_indexes("login_attempts", *LOGIN_ATTEMPTS_INDEXED)


def drop_login_attempts() -> None:
    """Drop ``login_attempts`` and its indexes."""
    drop_indexed_table("login_attempts", *LOGIN_ATTEMPTS_INDEXED)
