"""pytest plugin: a throwaway PostgreSQL 15 cluster for the test session.

Started on first use (initdb + pg_ctl in a temp dir, a free port, trust auth, fsync off;
as the ``postgres`` user when the tests run as root, since PostgreSQL refuses root) and
stopped at session end. Fixtures:

``pg_cluster``   the running cluster (``.url(db)``, ``.create_db(template=None)``)
``pg_url``       a fresh database with the workbench migrations applied (cloned from a
                 template database migrated once per session)
``pg_empty_url`` a fresh empty database (for migration tests)
``store``        a record Store on each backend in turn (``local``, ``postgres``): the
                 contract tests of records and governance run unchanged on both

Without PostgreSQL 15 binaries the fixtures skip with the reason, except under
``CI=true``, where a missing database is a broken set-up and fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_BIN = Path(os.environ.get("WORKBENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="wbpg-"))
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        (self.base / "data").mkdir()
        (self.base / "sock").mkdir()
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
            for sub in ("data", "sock"):
                shutil.chown(self.base / sub, "postgres", "postgres")
        self._template: str | None = None

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = self.base / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr}\n{tail}")

    def start(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.base / "data"), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.base / "data"), "-l",
                  str(self.base / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.base / 'sock'} -c listen_addresses=127.0.0.1 "
                  f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  f"-c max_connections=200", "start")

    def stop(self) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.base / "data"), "-m", "fast",
                      "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def create_db(self, template: str | None = None) -> str:
        import psycopg

        name = "wb_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            tpl = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{tpl}".encode())
        return name

    def migrated_template(self) -> str:
        if self._template is None:
            from workbench.records.migrate import migrate

            name = self.create_db()
            migrate(self.url(name))
            self._template = name
        return self._template


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        reason = (f"PostgreSQL 15 is not installed ({PG_BIN / 'initdb'} missing): "
                  f"run `make system-deps` (apt-get install postgresql-15)")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason + " -- required under CI")
        pytest.skip(reason)
    cluster = Cluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh database with every workbench migration applied."""
    return pg_cluster.url(pg_cluster.create_db(template=pg_cluster.migrated_template()))


@pytest.fixture
def pg_empty_url(pg_cluster: Cluster) -> str:
    return pg_cluster.url(pg_cluster.create_db())


@pytest.fixture(params=["local", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    from workbench.records import open_store

    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        s = open_store("postgres", url=url, migrate=False)
    else:
        s = open_store("local")
    try:
        yield s
    finally:
        s.close()
