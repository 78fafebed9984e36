"""Alembic environment: the URL comes from the caller (storage.migrate) or JXDOC_DATABASE_URL."""

import importlib

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

# Tables live beside the code that owns them; each module registers on Base when imported.
for _module in ("storage.models", "storage.batches"):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # a package not written yet
        if exc.name != _module:
            raise

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connectable = create_engine(url)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
