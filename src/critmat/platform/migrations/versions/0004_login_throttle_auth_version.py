"""Login throttle counters and the users' revocation stamp.

Replaces ``login_attempts`` (one row per failure, counted after the password check) by
``login_throttle`` (one counter per account-and-address and per address, raised atomically
before the check) and adds ``users.auth_version``, the stamp the service compares on every
request so that disabling a user, ending a session or revoking a token takes effect at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from critmat.platform.migrations._ddl import (
    create_indexes,
    create_login_attempts,
    drop_indexed_table,
    drop_login_attempts,
    email_address,
    utc_time,
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: The indexed columns of ``login_throttle``.
_THROTTLE_INDEXED = ("email", "window_start")


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        email_address("email", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        utc_time("window_start"),
        sa.PrimaryKeyConstraint("key"),
    )
    create_indexes("login_throttle", *_THROTTLE_INDEXED)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auth_version", sa.Integer(), server_default="0", nullable=False)
        )
    drop_login_attempts()


def downgrade() -> None:
    create_login_attempts()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("auth_version")
    drop_indexed_table("login_throttle", *_THROTTLE_INDEXED)
