"""Alembic environment: runs on the connection handed over by `wo_tui.core.schema`."""

from __future__ import annotations

from alembic import context

from wo_tui.core.models import with_postgresql_options

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by a bare `alembic` command
    raise RuntimeError("run migrations through `wo-tui db upgrade`")

context.configure(
    connection=connection,
    target_metadata=with_postgresql_options(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
