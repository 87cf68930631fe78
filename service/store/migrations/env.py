"""Alembic environment: runs on the connection handed over by `service.store.db.upgrade`, or on
`CLUSTERMATCH_DATABASE_URL` when invoked through the alembic command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from service.settings import Settings
from service.store.db import make_engine
from service.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(Settings().resolved_database_url)
    with engine.begin() as conn:
        _run(conn)
