"""An embedded store file made by an older version gains the new columns on open."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from workbench.records import open_store


def test_old_local_file_gets_new_columns_and_keeps_rows() -> None:
    store = open_store("local")
    path = store.backend.path  # type: ignore[attr-defined]
    user = store.profiles.create(email="old@t.test")
    s = store.strategies.create(user.id, "Old")
    store.close()
    conn = sqlite3.connect(path)  # make it look like a file from before 0005
    with conn:
        conn.execute("ALTER TABLE profiles DROP COLUMN notification_settings")
        conn.execute("ALTER TABLE strategies DROP COLUMN source_version_id")
        conn.execute("ALTER TABLE strategies DROP COLUMN source_educator_id")
    conn.close()

    store = open_store("local")
    try:
        assert store.profiles.get(user.id).notification_settings is None
        old = store.strategies.get(s.id)
        assert old.source_version_id is None and old.source_educator_id is None
        store.profiles.update(user.id, notification_settings={"email": "a@b.c"})
        assert store.profiles.get(user.id).notification_settings == {"email": "a@b.c"}
        vid, eid = uuid.uuid4(), uuid.uuid4()
        c = store.strategies.create(user.id, "Clone", source_version_id=vid,
                                    source_educator_id=eid)
        got = store.strategies.get(c.id)
        assert (got.source_version_id, got.source_educator_id) == (vid, eid)
    finally:
        store.close()


def test_records_file_is_owner_only(tmp_path: Path) -> None:
    """#11 (low): records.sqlite was 0644; an existing file is tightened on open too."""
    import stat

    old = tmp_path / "old.sqlite"
    old.touch(mode=0o644)
    old.chmod(0o644)
    for path in (tmp_path / "new" / "records.sqlite", old):
        store = open_store("local", path=path)
        store.profiles.create(email=f"{path.stem}@x.io")
        store.close()
        for f in path.parent.glob(path.name + "*"):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_opening_the_store_again_keeps_another_connections_locks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Regression (#11 merge): making the file private opened and closed the existing
    database file, which drops every POSIX lock the process's SQLite connections hold on
    it. The file must not be opened again once it exists."""
    import os
    import sqlite3

    from workbench.records.backends import local

    path = tmp_path / "records.sqlite"
    local._private_file(path)  # creates it 0600
    assert (path.stat().st_mode & 0o777) == 0o600
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    opened: list[str] = []
    real_open = os.open

    def spy(p, *a, **k):  # type: ignore[no-untyped-def]
        opened.append(str(p))
        return real_open(p, *a, **k)

    os.open = spy  # type: ignore[assignment]
    try:
        local._private_file(path)
    finally:
        os.open = real_open  # type: ignore[assignment]
    assert str(path) not in opened
    conn.close()
