"""assessment results stored gzip'd

Replaces ``assessments.result`` (JSON) by ``result_gz`` (the same JSON, gzip'd, in a binary
column that listings do not read) and ``result_bytes`` (its size). Existing rows are converted
one at a time; the downgrade converts them back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import gzip
import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLE = sa.table(
    "assessments",
    sa.column("id", sa.Integer()),
    sa.column("result", sa.JSON()),
    sa.column("result_gz", sa.LargeBinary()),
    sa.column("result_bytes", sa.Integer()),
)


def _ids(bind: sa.Connection) -> list[int]:
    return [int(i) for i in bind.execute(sa.select(_TABLE.c.id).order_by(_TABLE.c.id)).scalars()]


def upgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_gz", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("result_bytes", sa.Integer(), nullable=True))
    bind = op.get_bind()
    for assessment_id in _ids(bind):
        result = bind.execute(
            sa.select(_TABLE.c.result).where(_TABLE.c.id == assessment_id)
        ).scalar_one()
        raw = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
        packed = gzip.compress(raw, compresslevel=6, mtime=0)
        bind.execute(
            _TABLE.update()
            .where(_TABLE.c.id == assessment_id)
            .values(result_gz=packed, result_bytes=len(packed))
        )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("result_gz", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("result_bytes", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("result")


def downgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
    bind = op.get_bind()
    for assessment_id in _ids(bind):
        packed = bind.execute(
            sa.select(_TABLE.c.result_gz).where(_TABLE.c.id == assessment_id)
        ).scalar_one()
        bind.execute(
            _TABLE.update()
            .where(_TABLE.c.id == assessment_id)
            .values(result=json.loads(gzip.decompress(packed)))
        )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("result", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("result_bytes")
        batch_op.drop_column("result_gz")
