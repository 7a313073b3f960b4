"""Retention of stored tick notebooks (issue #19): keep the newest N and every failure;
``workbench paper prune`` in a real process."""

from __future__ import annotations

import json

import pytest

from workbench.paper import runner

from .conftest import at, cli, make_run


def test_prune_keeps_newest_n_and_every_failure(local_store):
    run = make_run(local_store)
    uris = []
    for minute in (30, 31, 32, 33):
        report = runner.tick(local_store, run.id, at(minute), engine="inprocess")
        assert report.status == "succeeded"
        bar = local_store.paper_runs.get(run.id).last_bar_ts
        uri = local_store.files.put_file(runner.notebook_key(run.id, bar), b"x" * 1000)
        local_store.backend.update("paper_ticks", {"run_id": run.id, "bar_ts": bar},
                                   {"notebook_path": uri})
        uris.append(uri)
    failed = local_store.files.put_file(f"paper/{run.id}/broken.failed.ipynb", b"f" * 10)
    local_store.ticks.record(run.id, local_store.paper_runs.get(run.id).last_bar_ts.replace(
        year=2000), "failed", notebook_path=failed, error="cell 3: boom")
    dry = cli("paper", "prune", str(run.id), "--keep", "2", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)[0]["deleted"] == 2
    assert all(local_store.files.get_file(u) for u in uris)
    out = cli("paper", "prune", str(run.id), "--keep", "2", "--json")
    assert out.returncode == 0, out.stderr
    [pruned] = json.loads(out.stdout)
    assert (pruned["kept"], pruned["deleted"], pruned["bytes_freed"]) == (2, 2, 2000)
    from workbench.errors import NotFoundError

    for uri in uris[:2]:
        with pytest.raises(NotFoundError):
            local_store.files.get_file(uri)
    assert all(local_store.files.get_file(u) for u in uris[2:])
    assert local_store.files.get_file(failed)  # failures are always kept
    rows = local_store.ticks.list(run.id)
    assert [t.notebook_path is not None for t in rows if t.status == "succeeded"] == \
        [True, True, False, False]
    bad = cli("paper", "prune", str(run.id), "--keep", "0")
    assert bad.returncode != 0 and "keep must be >= 1" in bad.stderr + bad.stdout
