"""Migrations: every numbered SQL file applied once, in order, by the real migration code."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from policy_news.store import schema

MIGRATIONS_DIR = Path(schema.__file__).resolve().parent / "migrations"


def _numbered_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def test_every_migration_file_is_applied_once_in_order(migrated_db: Path) -> None:
    with duckdb.connect(str(migrated_db)) as conn:
        assert schema.migrate(conn) == []
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    assert [v[0] for v in versions] == [int(p.name[:3]) for p in _numbered_files()]


def test_migration_files_are_read_from_the_package_in_version_order() -> None:
    found = schema.migration_files()
    assert [name for _, name, _ in found] == [p.name for p in _numbered_files()]
    assert "006_stories.sql" in [name for _, name, _ in found]


def test_a_failing_migration_is_rolled_back_and_not_recorded(
    monkeypatch: pytest.MonkeyPatch, migrated_db: Path
) -> None:
    broken = (999, "999_broken.sql", "CREATE TABLE half_done (x INTEGER); SELECT nonsense;")
    monkeypatch.setattr(schema, "migration_files", lambda: [broken])
    with duckdb.connect(str(migrated_db)) as conn:
        recorded = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        with pytest.raises(duckdb.Error):
            schema.migrate(conn)
        tables = {r[0] for r in conn.execute("SHOW TABLES").fetchall()}
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == recorded
    assert "half_done" not in tables
