"""Assessment results stored gzip'd.

Replaces ``assessments.result`` (JSON) by ``result_gz`` (the same JSON, gzip'd, in a binary
column that listings do not read) and ``result_bytes`` (its size). Existing rows are converted
one at a time; the downgrade converts them back.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

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


def _rewrite_each_row(
    source: sa.ColumnClause[Any], new_values: Callable[[Any], dict[str, Any]]
) -> None:
    """For every assessment in id order, one row at a time (a result may be megabytes): read
    ``source`` and set the columns ``new_values`` makes of it."""
    bind = op.get_bind()
    ids = bind.execute(sa.select(_TABLE.c.id).order_by(_TABLE.c.id)).scalars()
    for assessment_id in [int(i) for i in ids]:
        row = _TABLE.c.id == assessment_id
        value = bind.execute(sa.select(source).where(row)).scalar_one()
        bind.execute(_TABLE.update().where(row).values(**new_values(value)))


def _packed(result: Any) -> dict[str, Any]:
    """The new columns of one JSON result: compact UTF-8 JSON gzip'd (level 6, no timestamp,
    as :func:`critmat.platform.assessments.compress_result` stores it) and its size."""
    raw = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
    packed = gzip.compress(raw, compresslevel=6, mtime=0)
    return {"result_gz": packed, "result_bytes": len(packed)}


def _unpacked(packed: bytes) -> dict[str, Any]:
    """The old column of one gzip'd result: the JSON itself."""
    return {"result": json.loads(gzip.decompress(packed))}


def upgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_gz", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("result_bytes", sa.Integer(), nullable=True))
    _rewrite_each_row(_TABLE.c.result, _packed)
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("result_gz", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("result_bytes", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("result")


def downgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
    _rewrite_each_row(_TABLE.c.result_gz, _unpacked)
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("result", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("result_bytes")
        batch_op.drop_column("result_gz")
