"""DuckDB: schema and migrations, the single loader, reads for planning, the snapshot, the raw-HTML archive."""
