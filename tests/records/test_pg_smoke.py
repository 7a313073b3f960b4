from __future__ import annotations

import psycopg

from workbench.records.migrate import migrations


def test_cluster_runs_migrated(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        n = conn.execute("select count(*) from workbench_private.schema_migrations").fetchone()
    assert n is not None and n[0] == len(migrations()) >= 5
