"""Alembic's environment: migrations run on the connection :func:`app.classroom.db.migrate`
passes (no alembic.ini; the URL is the app's setting)."""

from alembic import context

from app.classroom.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
