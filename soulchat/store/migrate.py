"""Schema migrations (Alembic), run programmatically so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaError(Exception):
    """The database schema is not the one this version of SoulChat expects."""


def _alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def ensure_schema(engine: Engine, *, auto_migrate: bool) -> None:
    """Create a new database's schema, or fail clearly when an existing one is behind."""
    if auto_migrate and is_empty(engine):
        upgrade(engine)
        return
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    url = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaError(
            f"the database at {url} has no SoulChat schema. Run `soulchat db upgrade` "
            "(or point SOULCHAT_DATABASE__URL at an empty database)."
        )
    known = {
        rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }
    if current not in known:
        raise SchemaError(
            f"the database at {url} is at revision {current}, newer than this SoulChat "
            f"knows (head {head}). Upgrade SoulChat."
        )
    raise SchemaError(
        f"the database at {url} is at revision {current} but this SoulChat needs {head}. "
        "Run `soulchat db upgrade` (back the database up first)."
    )
