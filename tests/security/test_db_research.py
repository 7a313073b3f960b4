"""Recorded sweeps and walk-forwards (migration 0008) under attack, acting as PostgREST
does on a database with Supabase's default privileges: user B cannot read, insert,
update or delete user A's research runs, nor hang their own runs on A's strategy; anon
reads nothing. The legitimate path next to each attack still works."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from workbench.records import Store, open_store

pytestmark = pytest.mark.postgres
DENIED = (psycopg.errors.InsufficientPrivilege,)


@dataclass
class World:
    store: Store  # trusted (service) connection
    a: uuid.UUID  # the victim
    b: uuid.UUID  # the attacker
    a_strategy: uuid.UUID
    a_version: uuid.UUID
    b_strategy: uuid.UUID
    b_version: uuid.UUID
    a_run: uuid.UUID


@pytest.fixture
def world(db_supabase_url: str) -> Iterator[World]:
    store = open_store("postgres", url=db_supabase_url, migrate=False)
    a = store.profiles.create(email="a@x.io").id
    b = store.profiles.create(email="b@x.io").id
    sa = store.strategies.create(a, "A's")
    va = store.versions.save(sa.id, {"n": 1})
    sb = store.strategies.create(b, "B's")
    vb = store.versions.save(sb.id, {"n": 1})
    run = store.research.create(a, "sweep", strategy_version_id=va.id,
                                parameters={"symbol": "GOOG", "grid": {"fast.window": [5]}})
    store.research.start(run.id)
    store.research.succeed(run.id, {"metric": "sharpe", "best": {"sharpe": 1.0}},
                           provenance={"result_uri": f"research/{run.id}.json"})
    try:
        yield World(store, a, b, sa.id, va.id, sb.id, vb.id, run.id)
    finally:
        store.close()


def test_user_cannot_read_another_users_research_runs(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.b) as cur:
        assert cur.execute("SELECT count(*) FROM public.research_runs").fetchone() == (0,)
        assert cur.execute("SELECT id FROM public.research_runs WHERE id = %s",
                           (world.a_run,)).fetchall() == []
    with db_as("anon") as cur, pytest.raises(DENIED):
        cur.execute("SELECT * FROM public.research_runs")
    with db_as("authenticated", world.a) as cur:  # the owner reads it
        rows = cur.execute("SELECT kind, status, summary->>'metric' FROM public.research_runs"
                           ).fetchall()
        assert rows == [("sweep", "succeeded", "sharpe")]


@pytest.mark.parametrize("stmt", [
    "INSERT INTO public.research_runs (owner_id, kind) VALUES ({a}, 'sweep')",
    "INSERT INTO public.research_runs (owner_id, kind, strategy_id) "
    "VALUES ({b}, 'sweep', {a_strategy})",
    "INSERT INTO public.research_runs (owner_id, kind, strategy_version_id) "
    "VALUES ({b}, 'walkforward', {a_version})",
], ids=["as-A", "onto-A-strategy", "onto-A-version"])
def test_user_cannot_insert_research_runs_for_another_user(world: World, db_as: Any,
                                                           stmt: str) -> None:
    ids = {k: f"'{v}'" for k, v in vars(world).items() if isinstance(v, uuid.UUID)}
    with db_as("authenticated", world.b) as cur, pytest.raises(DENIED):
        cur.execute(stmt.format(**ids).encode())


def test_user_cannot_update_or_delete_another_users_research_run(world: World,
                                                                  db_as: Any) -> None:
    with db_as("authenticated", world.b, keep=True) as cur:
        cur.execute("UPDATE public.research_runs SET summary = '{\"best\": null}', "
                    "owner_id = %s, provenance = '{\"result_uri\": \"/etc/passwd\"}' "
                    "WHERE id = %s", (world.b, world.a_run))
        assert cur.rowcount == 0
        cur.execute("DELETE FROM public.research_runs WHERE id = %s", (world.a_run,))
        assert cur.rowcount == 0
    kept = world.store.research.get(world.a_run)
    assert kept.owner_id == world.a and kept.summary == {"metric": "sharpe",
                                                         "best": {"sharpe": 1.0}}
    assert kept.provenance["result_uri"] == f"research/{world.a_run}.json"


def test_user_cannot_repoint_own_research_run_at_another_users_strategy(
        world: World, db_as: Any) -> None:
    with db_as("authenticated", world.b) as cur:
        cur.execute("INSERT INTO public.research_runs (owner_id, kind, strategy_version_id) "
                    "VALUES (%s, 'sweep', %s) RETURNING id", (world.b, world.b_version))
        with pytest.raises(DENIED):
            cur.execute("UPDATE public.research_runs SET strategy_version_id = %s "
                        "WHERE owner_id = %s", (world.a_version, world.b))
    with db_as("authenticated", world.b) as cur:
        cur.execute("INSERT INTO public.research_runs (owner_id, kind, strategy_id) "
                    "VALUES (%s, 'sweep', %s)", (world.b, world.b_strategy))
        with pytest.raises(DENIED):
            cur.execute("UPDATE public.research_runs SET owner_id = %s WHERE owner_id = %s",
                        (world.a, world.b))


def test_owner_writes_own_research_runs(world: World, db_as: Any) -> None:
    """The legitimate path: what the supabase backend does with the owner's JWT."""
    with db_as("authenticated", world.a, keep=True) as cur:
        (new_id,) = cur.execute(
            "INSERT INTO public.research_runs (owner_id, kind, strategy_version_id, "
            "strategy_id) VALUES (%s, 'walkforward', %s, %s) RETURNING id",
            (world.a, world.a_version, world.a_strategy)).fetchone() or (None,)
        cur.execute("UPDATE public.research_runs SET status = 'running' WHERE id = %s",
                    (new_id,))
        assert cur.rowcount == 1
    assert world.store.research.get(new_id).status == "running"
    assert {r.kind for r in world.store.research.list(owner_id=world.a)} == {
        "sweep", "walkforward"}
