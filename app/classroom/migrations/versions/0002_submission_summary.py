"""submissions.summary: the gradebook's marks of each submission

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from app.classroom.models import summarize

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.JSON(), nullable=True))
    submissions = sa.table(
        "submissions", sa.column("id", sa.Integer), sa.column("grades", sa.JSON),
        sa.column("summary", sa.JSON),
    )  # fmt: skip
    connection = op.get_bind()
    rows = connection.execute(sa.select(submissions.c.id, submissions.c.grades)).all()
    for row in rows:
        connection.execute(
            submissions.update()
            .where(submissions.c.id == row.id)
            .values(summary=summarize(row.grades))
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("summary")
