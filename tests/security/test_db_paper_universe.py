"""Migration 0013 (issue #16): paper fills name their symbol. The ledger's rules hold for
the new column as for the rest: only the service writes fills (no user can add one that
names a symbol, not even to their own run, nor re-label one), and each owner reads only
the fills of their own runs, symbols included."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from workbench.records import open_store

pytestmark = pytest.mark.postgres
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DENIED = (psycopg.errors.InsufficientPrivilege,)


def test_fill_symbols_are_written_by_the_service_and_read_by_their_owner(db_supabase_url, db_as):
    store = open_store("postgres", url=db_supabase_url, migrate=False)
    try:
        a = store.profiles.create(email="a@x.io").id
        b = store.profiles.create(email="b@x.io").id
        runs = {}
        for who in (a, b):
            s = store.strategies.create(who, "S")
            v = store.versions.save(s.id, {"n": 1})
            runs[who] = store.paper_runs.create(
                who, symbol="trio", timeframe="1d", strategy_version_id=v.id,
                parameters={"symbols": ["AAA", "BBB", "CCC"]}).id
            store.commit_tick(runs[who], T0, [
                {"side": "buy", "price": 1.0, "quantity": 1.0, "symbol": "AAA"},
                {"side": "buy", "price": 2.0, "quantity": 1.0, "symbol": "BBB"}], {}, {})
        assert [f.symbol for f in store.fills.list(runs[a])] == ["AAA", "BBB"]
        for stmt, params in (
                ("INSERT INTO public.paper_fills (run_id, owner_id, bar_ts, side, price, "
                 "quantity, symbol) VALUES (%s, %s, now(), 'buy', 1, 1, 'CCC')", (runs[a], a)),
                ("INSERT INTO public.paper_fills (run_id, owner_id, bar_ts, side, price, "
                 "quantity, symbol) VALUES (%s, %s, now(), 'buy', 1, 1, 'CCC')", (runs[b], a)),
                ("UPDATE public.paper_fills SET symbol = 'CCC' WHERE run_id = %s", (runs[a],)),
                ("DELETE FROM public.paper_fills WHERE run_id = %s AND symbol = 'AAA'",
                 (runs[a],))):
            with db_as("authenticated", a) as cur, pytest.raises(DENIED):
                cur.execute(stmt.encode(), params)
        with db_as("authenticated", a) as cur:
            seen = cur.execute(b"SELECT run_id, symbol FROM public.paper_fills ORDER BY seq").fetchall()
        assert seen == [(runs[a], "AAA"), (runs[a], "BBB")]  # B's fills stay invisible
        with db_as("anon") as cur, pytest.raises(DENIED):
            cur.execute(b"SELECT symbol FROM public.paper_fills")
        assert [f.symbol for f in store.fills.list(runs[a])] == ["AAA", "BBB"]  # unchanged
    finally:
        store.close()
