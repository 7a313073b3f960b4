"""Issue #11, database half: each attack run as the attacker on the real PostgreSQL,
acting as PostgREST does (``SET LOCAL ROLE authenticated``/``anon`` + JWT claims), on a
database that has Supabase's default privileges. Each attack must fail; the legitimate
path next to it must still work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from workbench.governance import audit, compliance, templates
from workbench.governance.plans import daily_window
from workbench.records import Store, open_store
from workbench.records.models import ExchangeKey

pytestmark = pytest.mark.postgres
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DENIED = (psycopg.errors.InsufficientPrivilege,)


@dataclass
class World:
    url: str
    store: Store  # trusted (service) connection
    a: uuid.UUID  # the attacker
    b: uuid.UUID  # the victim
    admin: uuid.UUID
    a_strategy: uuid.UUID
    a_version: uuid.UUID
    a_version2: uuid.UUID
    b_strategy: uuid.UUID
    b_version: uuid.UUID
    b_run: uuid.UUID
    a_run: uuid.UUID
    a_tick: uuid.UUID
    b_template: uuid.UUID
    a_template: uuid.UUID
    b_key: uuid.UUID
    a_key: uuid.UUID


@pytest.fixture
def world(db_supabase_url: str) -> Iterator[World]:
    store = open_store("postgres", url=db_supabase_url, migrate=False)
    a = store.profiles.create(email="a@x.io", role="educator", plan_tier="educator").id
    b = store.profiles.create(email="b@x.io", role="educator", plan_tier="educator").id
    admin = store.profiles.create(email="admin@x.io", role="admin").id
    sa = store.strategies.create(a, "A's")
    va, va2 = store.versions.save(sa.id, {"n": 1}), store.versions.save(sa.id, {"n": 2})
    sb = store.strategies.create(b, "B's public", visibility="public")
    vb = store.versions.save(sb.id, {"n": 1})
    b_run = store.paper_runs.create(b, symbol="X", timeframe="1h", strategy_version_id=vb.id)
    a_run = store.paper_runs.create(a, symbol="X", timeframe="1h", strategy_version_id=va.id)
    store.commit_tick(a_run.id, T0, [{"side": "buy", "price": 1.0, "quantity": 1.0}], {}, {})
    a_tick = store.ticks.find_tick(a_run.id, T0)
    assert a_tick is not None
    b_tpl = templates.submit(store, b, vb.id, disclaimers=["Past results."]).template
    compliance.review(store, admin, compliance.queue(store, admin)[0].id, "approve", "ok")
    a_tpl = templates.submit(store, a, va.id, disclaimers=["Past results."]).template
    keys = {who: store.exchange_keys.add(ExchangeKey(owner_id=who, exchange="binance",
                                                      hint="ab…yz", ciphertext="c")).id
            for who in (a, b)}
    try:
        yield World(db_supabase_url, store, a, b, admin, sa.id, va.id, va2.id, sb.id, vb.id,
                    b_run.id, a_run.id, a_tick.id, b_tpl.id, a_tpl.id, keys[b], keys[a])
    finally:
        store.close()


def _one(cur: psycopg.Cursor[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = cur.execute(sql.encode(), params).fetchone()
    assert row is not None
    return row[0]


# -- #11.2: nobody makes themselves admin ---------------------------------------------
def test_user_cannot_insert_own_profile_as_admin_or_premium(db_as: Any) -> None:
    me = uuid.uuid4()
    for role, plan in (("admin", "free"), ("builder", "premium"), ("educator", "educator")):
        with db_as("authenticated", me) as cur, pytest.raises(DENIED):
            cur.execute("INSERT INTO public.profiles (id, role, plan_tier) VALUES (%s, %s, %s)",
                        (me, role, plan))
    with db_as("authenticated", me) as cur, pytest.raises(DENIED):  # joining a cohort
        cur.execute("INSERT INTO public.profiles (id, cohorts) VALUES (%s, '[\"c1\"]')", (me,))
    with db_as("anon") as cur, pytest.raises(DENIED):
        cur.execute("INSERT INTO public.profiles (id, role) VALUES (%s, 'admin')", (me,))
    # legitimate: a first-seen user's profile with the role and plan of their token
    with db_as("authenticated", me) as cur:
        cur.execute("INSERT INTO public.profiles (id) VALUES (%s)", (me,))
        assert _one(cur, "SELECT role || '/' || plan_tier FROM public.profiles") == "builder/free"
    with db_as("authenticated", me, app_metadata={"role": "educator", "plan": "educator"}) as cur:
        cur.execute("INSERT INTO public.profiles (id, role, plan_tier) "
                    "VALUES (%s, 'educator', 'educator')", (me,))


def test_user_cannot_delete_and_reinsert_profile_as_admin(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute("DELETE FROM public.profiles WHERE id = %s", (world.a,))
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute("INSERT INTO public.profiles (id, email, role) VALUES (%s, 'a2@x.io', 'admin') "
                    "ON CONFLICT (id) DO UPDATE SET role = 'admin'", (world.a,))
    for column, value in (("role", "admin"), ("plan_tier", "premium"), ("cohorts", Jsonb(["c1"])),
                          ("id", uuid.uuid4())):
        with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
            cur.execute(f"UPDATE public.profiles SET {column} = %s WHERE id = %s".encode(),
                        (value, world.a))
    with db_as("authenticated", world.a) as cur:  # what a user may change of their own
        cur.execute("UPDATE public.profiles SET display_name = 'Ann', last_active_at = now() "
                    "WHERE id = %s", (world.a,))
        assert cur.rowcount == 1
    a = world.store.profiles.get(world.a)
    assert (a.role, a.plan_tier, a.cohorts) == ("educator", "educator", [])


# -- #11.3: every child row checks its parent's owner; ledgers are the service's --------
@pytest.mark.parametrize("stmt", [
    "INSERT INTO public.strategy_versions (strategy_id, owner_id, version, graph) "
    "VALUES ({b_strategy}, {a}, 99, '{{}}')",
    "INSERT INTO public.backtest_runs (owner_id, strategy_version_id) VALUES ({a}, {b_version})",
    "INSERT INTO public.backtest_runs (owner_id, strategy_id) VALUES ({a}, {b_strategy})",
    "INSERT INTO public.paper_trade_runs (owner_id, symbol, timeframe, strategy_version_id) "
    "VALUES ({a}, 'X', '1h', {b_version})",
    "INSERT INTO public.template_shares (strategy_version_id, educator_id) "
    "VALUES ({b_version}, {a})",
    "INSERT INTO public.compliance_events (event_type, subject_type, subject_id, created_by) "
    "VALUES ('disclosure', 'template', {b_template}, {a})",
    "INSERT INTO public.paper_fills (run_id, owner_id, bar_ts, side, price, quantity) "
    "VALUES ({b_run}, {a}, now(), 'buy', 1, 1)",
    "INSERT INTO public.paper_ticks (run_id, owner_id, bar_ts, notebook_path) "
    "VALUES ({b_run}, {a}, now(), '/etc/passwd')",
], ids=["version-into-B-strategy", "backtest-of-B-version", "backtest-of-B-strategy",
        "paper-run-of-B-version", "template-of-B-version", "review-of-B-template",
        "fill-into-B-run", "tick-into-B-run"])
def test_child_row_of_another_users_parent_is_refused(world: World, db_as: Any,
                                                       stmt: str) -> None:
    ids = {k: f"'{v}'" for k, v in vars(world).items() if isinstance(v, uuid.UUID)}
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute(stmt.format(**ids).encode())


def test_user_cannot_repoint_own_rows_at_another_users_parent(world: World, db_as: Any) -> None:
    for stmt in ("UPDATE public.backtest_runs SET strategy_version_id = %s WHERE owner_id = %s",
                 "UPDATE public.paper_trade_runs SET strategy_version_id = %s WHERE owner_id = %s",
                 "UPDATE public.template_shares SET strategy_version_id = %s WHERE educator_id = %s",
                 "UPDATE public.strategy_versions SET strategy_id = (SELECT strategy_id FROM "
                 "public.strategy_versions WHERE id = %s) WHERE owner_id = %s"):
        with db_as("authenticated", world.a) as cur:
            if "backtest_runs" in stmt:
                cur.execute("INSERT INTO public.backtest_runs (owner_id, strategy_version_id) "
                            "VALUES (%s, %s)", (world.a, world.a_version))
            with pytest.raises(DENIED):
                cur.execute(stmt.encode(), (world.b_version, world.a))


def test_ledgers_are_written_by_the_service_only(world: World, db_as: Any) -> None:
    """Fills, ticks, audit and key-access rows: not even into one's own run or key."""
    for stmt, params in (
            ("INSERT INTO public.paper_fills (run_id, owner_id, bar_ts, side, price, quantity) "
             "VALUES (%s, %s, now(), 'buy', 1, 1)", (world.a_run, world.a)),
            ("INSERT INTO public.paper_ticks (run_id, owner_id, bar_ts, notebook_path) "
             "VALUES (%s, %s, now(), 'file:///proc/self/environ')", (world.a_run, world.a)),
            ("UPDATE public.paper_ticks SET notebook_path = '/etc/passwd' WHERE id = %s",
             (world.a_tick,)),
            ("DELETE FROM public.paper_fills WHERE run_id = %s", (world.a_run,)),
            ("INSERT INTO public.key_access_log (key_id, owner_id, actor_id, action) "
             "VALUES (%s, %s, %s, 'decrypted')", (world.b_key, world.b, world.admin)),
            ("INSERT INTO public.key_access_log (key_id, owner_id, action) "
             "VALUES (%s, %s, 'created')", (world.a_key, world.a)),
            ("UPDATE public.template_shares SET notebook_path = '/etc/passwd' WHERE id = %s",
             (world.a_template,)),
            ("INSERT INTO public.template_shares (strategy_version_id, educator_id, notebook_path)"
             " VALUES (%s, %s, '/etc/passwd')", (world.a_version, world.a))):
        with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
            cur.execute(stmt.encode(), params)
    assert world.store.ticks.get(world.a_tick).notebook_path is None
    # legitimate: own children of own parents
    with db_as("authenticated", world.a) as cur:
        cur.execute("INSERT INTO public.strategy_versions (strategy_id, owner_id, version, graph) "
                    "VALUES (%s, %s, 3, '{}')", (world.a_strategy, world.a))
        cur.execute("INSERT INTO public.backtest_runs (owner_id, strategy_version_id) "
                    "VALUES (%s, %s)", (world.a, world.a_version))
        cur.execute("INSERT INTO public.template_shares (strategy_version_id, educator_id) "
                    "VALUES (%s, %s)", (world.a_version, world.a))


def test_key_access_is_logged_only_for_own_keys_as_oneself(world: World, db_as: Any) -> None:
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute("SELECT * FROM public.workbench_log_key_access(%s, 'decrypted', 'x')",
                    (world.b_key,))
    with db_as("authenticated", world.a) as cur:
        row = cur.execute("SELECT owner_id, actor_id, action FROM "
                          "public.workbench_log_key_access(%s, 'decrypted', 'trade')",
                          (world.a_key,)).fetchone()
        assert row == (world.a, world.a, "decrypted")


# -- #11.6: changing reviewed content reopens review ------------------------------------
def test_published_template_swap_reopens_review_in_the_database(world: World,
                                                                  db_as: Any) -> None:
    b_version2 = world.store.versions.save(world.b_strategy, {"n": "unreviewed"}).id
    assert world.store.templates.get(world.b_template).status == "published"
    with db_as("authenticated", world.b) as cur:
        cur.execute("UPDATE public.template_shares SET strategy_version_id = %s, title = 'new' "
                    "WHERE id = %s RETURNING status, content_rev",
                    (b_version2, world.b_template))
        assert cur.fetchone() == ("pending_review", 2)
        with pytest.raises(DENIED, match="approved disclosure"):  # the old approval is spent
            cur.execute("UPDATE public.template_shares SET status = 'published' WHERE id = %s",
                        (world.b_template,))
    with db_as("authenticated", world.b) as cur, pytest.raises(DENIED):
        # nor can the educator file a review for a revision that does not exist yet
        cur.execute("INSERT INTO public.compliance_events (event_type, subject_type, subject_id, "
                    "created_by, payload) VALUES ('disclosure', 'template', %s, %s, %s)",
                    (world.b_template, world.b, Jsonb({"content_rev": 2})))
    with db_as("authenticated", world.b) as cur:  # a takedown also spends the approval
        cur.execute("UPDATE public.template_shares SET status = 'taken_down' WHERE id = %s",
                    (world.b_template,))
        with pytest.raises(DENIED, match="approved disclosure"):
            cur.execute("UPDATE public.template_shares SET status = 'published' WHERE id = %s",
                        (world.b_template,))
    with db_as("authenticated", world.b) as cur:  # metadata-free fields change nothing
        cur.execute("UPDATE public.template_shares SET updated_at = now() WHERE id = %s "
                    "RETURNING status, content_rev", (world.b_template,))
        assert cur.fetchone() == ("published", 1)


@pytest.mark.parametrize("store_kind", ["local", "postgres"])
def test_published_template_edit_reopens_review_in_python(store_kind: str,
                                                          db_supabase_url: str) -> None:
    store = (open_store("postgres", url=db_supabase_url, migrate=False)
             if store_kind == "postgres" else open_store("local"))
    try:
        edu = store.profiles.create(email="e@x.io", role="educator", plan_tier="educator")
        admin = store.profiles.create(email="ad@x.io", role="admin")
        s = store.strategies.create(edu.id, "S")
        v1, v2 = store.versions.save(s.id, {"n": 1}), store.versions.save(s.id, {"n": 2})
        tpl = templates.submit(store, edu, v1.id, disclaimers=["d"]).template
        first = compliance.queue(store, admin)[0]
        compliance.review(store, admin, first.id, "approve", "fine")
        assert store.templates.get(tpl.id).status == "published"
        out = templates.edit(store, edu, tpl.id, strategy_version_id=v2.id, title="Swapped")
        assert isinstance(out, templates.Submission)
        assert (out.template.status, out.template.content_rev) == ("pending_review", 2)
        with pytest.raises(Exception, match="no approved disclosure"):
            compliance.publish_template(store, edu, tpl.id)
        other = store.profiles.create(email="o@x.io", role="educator")
        o_version = store.versions.save(store.strategies.create(other.id, "O").id, {"n": 9})
        with pytest.raises(Exception, match="another user"):
            templates.edit(store, edu, tpl.id, strategy_version_id=o_version.id)
        compliance.review(store, admin, out.review.id, "approve", "re-reviewed")
        assert store.templates.get(tpl.id).status == "published"
        # a takedown spends the approval too
        compliance.takedown(store, admin, tpl.id, "gone")
        with pytest.raises(Exception, match="no approved disclosure"):
            compliance.publish_template(store, edu, tpl.id)
        assert audit.verify_store(store).ok
    finally:
        store.close()


# -- #11.7: the audit chain is appended by the definer path only -----------------------
def test_user_cannot_insert_audit_events(world: World, db_as: Any) -> None:
    head = world.store.audit.head()
    assert head is not None
    forged = {"seq": head.seq + 1, "ts": datetime.now(UTC), "actor_id": world.admin,
              "action": "compliance.approved", "entity_type": "compliance_event",
              "entity_id": str(uuid.uuid4()), "details": {}}
    digest = audit.chain_hash(head.hash, forged)
    for seq in (head.seq + 1, 10**15):
        with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
            cur.execute("INSERT INTO public.audit_log (seq, ts, actor_id, action, entity_type, "
                        "entity_id, details, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, "
                        "'{}', %s, %s)", (seq, forged["ts"], world.a, forged["action"],
                                          forged["entity_type"], forged["entity_id"],
                                          head.hash, digest))
    for action, actor in (("compliance.approved", None), ("strategy.saved", world.b)):
        with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
            cur.execute("SELECT * FROM public.workbench_audit_append(%s, 'x', NULL, '{}', %s)",
                        (action, actor))
    assert audit.verify_store(world.store).ok


def test_audit_append_through_the_database_hashes_like_python(world: World,
                                                               db_as: Any) -> None:
    tricky = {"unicode": "Zürich ✓ \u2028", "quote": "a\"b\\c\n\t\x01", "iso": "2024-01-02T03:04:05",
              "iso_tz": "2024-01-02T03:04:05.5+02:00", "not_iso": "2024-01-02 x", "int": 7,
              "float": 1.5, "whole": 2.0, "small": 1e-07, "neg": -0.25, "bool": True,
              "none": None, "list": [3, "b", {"z": 1, "a": [None, False]}], "": {"é": 1, "e": 2}}
    with db_as("authenticated", world.a, keep=True) as cur:
        cur.execute("SELECT actor_id, seq FROM public.workbench_audit_append("
                    "'strategy.version_saved', 'strategy', 'x', %s)", (Jsonb(tricky),))
        actor, seq = cur.fetchone()  # type: ignore[misc]
        assert actor == world.a
    report = audit.verify_store(world.store)
    assert report.ok, report.broken
    assert report.checked == seq


def test_verify_names_an_admin_event_by_a_non_admin(world: World) -> None:
    """A forged, correctly hashed approval (written by whoever could still write rows)."""
    assert audit.verify_store(world.store).ok
    audit.record(world.store, "compliance.approved", actor_id=world.a,
                 entity_type="compliance_event", entity_id=uuid.uuid4())
    report = audit.verify_store(world.store)
    assert not report.ok and report.broken is not None
    assert report.broken.reason == "forged" and str(world.a) in report.broken.message


# -- #11.8: quotas --------------------------------------------------------------------
def test_quota_cannot_be_given_back_or_raised_by_the_user(world: World, db_as: Any) -> None:
    today = daily_window()
    call = "SELECT used FROM public.workbench_consume_quota(%s, 'backtests', %s, %s, %s, %s)"
    with db_as("authenticated", world.a) as cur, pytest.raises(
            psycopg.errors.InvalidParameterValue):
        cur.execute(call, (world.a, 500, today.start, today.end, -5))
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):  # an old window
        cur.execute(call, (world.a, 500, T0, T0 + timedelta(days=1), 1))
    with db_as("authenticated", world.a) as cur:
        # A is on the educator plan: 500 backtests a day, whatever p_limit says
        assert cur.execute(call, (world.a, 10**9, today.start, today.end, 501)).fetchone() is None
        assert cur.execute(call, (world.a, 10**9, today.start, today.end, 500)).fetchone() == (500,)
    with db_as("authenticated", world.a) as cur:  # a smaller limit only limits oneself
        assert cur.execute(call, (world.a, 3, today.start, today.end, 4)).fetchone() is None
    with db_as("anon") as cur, pytest.raises(DENIED):
        cur.execute(call, (world.a, 5, today.start, today.end, 1))


# -- low: clone counter, search_path, linter rules ------------------------------------
def test_clone_count_moves_only_for_a_real_clone_once(world: World, db_as: Any) -> None:
    bump = "SELECT public.workbench_increment_clone_count(%s)"
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute(bump, (world.b_template,))
    with db_as("anon") as cur, pytest.raises(DENIED):
        cur.execute(bump, (world.b_template,))
    with db_as("authenticated", world.a) as cur:
        cur.execute("INSERT INTO public.strategies (owner_id, name, slug, source_template_id) "
                    "VALUES (%s, 'clone', 'clone', %s)", (world.a, world.b_template))
        assert _one(cur, bump, (world.b_template,)) == 1
        with pytest.raises(DENIED):
            cur.execute(bump, (world.b_template,))
    with db_as("authenticated", world.a) as cur, pytest.raises(DENIED):
        cur.execute("UPDATE public.template_shares SET clone_count = 99 WHERE id = %s",
                    (world.a_template,))


def test_splinter_rules_hold(db_supabase_url: str) -> None:
    """Supabase's linter, as queries: RLS on every public table, a fixed search_path on
    every function, no SECURITY DEFINER views, no definer function anon can call, no
    per-row auth.uid() in policies."""
    with psycopg.connect(db_supabase_url) as conn:
        no_rls = conn.execute("SELECT relname FROM pg_class WHERE relnamespace = "
                              "'public'::regnamespace AND relkind IN ('r', 'p') "
                              "AND NOT relrowsecurity").fetchall()
        mutable = conn.execute(
            "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) c "
            "WHERE c LIKE 'search_path=%')").fetchall()
        definer_views = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'v' AND NOT coalesce(reloptions @> '{security_invoker=true}', false)"
        ).fetchall()
        anon_definers = conn.execute(
            "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
            "AND p.prosecdef AND has_function_privilege('anon', p.oid, 'EXECUTE')").fetchall()
        anon_tables = conn.execute(
            "SELECT DISTINCT table_name FROM information_schema.role_table_grants "
            "WHERE grantee = 'anon' AND table_schema = 'public'").fetchall()
        per_row = conn.execute(  # auth_rls_initplan: auth.uid() evaluated once per query
            "SELECT policyname FROM pg_policies WHERE schemaname = 'public' AND "
            "(qual ~ '(?<!SELECT )auth\\.uid\\(\\)' "
            "OR with_check ~ '(?<!SELECT )auth\\.uid\\(\\)')").fetchall()
        private = conn.execute("SELECT has_schema_privilege('anon', 'workbench_private', "
                               "'USAGE') OR has_schema_privilege('authenticated', "
                               "'workbench_private', 'USAGE')").fetchone()
    assert no_rls == [] and mutable == [] and definer_views == [] and anon_definers == []
    assert per_row == []
    assert anon_tables == [("template_shares",)]
    assert private == (False,)


def test_template_update_cannot_set_status_or_counters_in_python(world: World) -> None:
    from workbench.errors import ValidationError

    for field, value in (("status", "published"), ("clone_count", 5), ("content_rev", 1),
                         ("published_at", None)):
        with pytest.raises(ValidationError, match=field):
            world.store.templates.update(world.a_template, actor=world.a, **{field: value})
    assert world.store.templates.get(world.a_template).status == "pending_review"
