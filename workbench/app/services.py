"""What the pages and the HTTP API do, in one place, over the same Python API a notebook uses.

Every function takes the caller (:class:`~workbench.app.auth.Principal`) and passes it to
the records as ``actor``, so the records' rules (owner or admin) decide what a user sees;
the UI never filters on its own. Heavy imports stay inside functions so ``workbench --help``
and the API's import stay light.
"""

from __future__ import annotations

import threading
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.app.auth import TIERS, Principal
from workbench.errors import ForbiddenError, NotFoundError, ValidationError, WorkbenchError
from workbench.runs.backtests import public_parameters

if TYPE_CHECKING:
    from workbench.app.http import models as m
    from workbench.records import Store
    from workbench.records.models import Record
    from workbench.runs.jobs import JobRunner

Progress = Callable[[float, str], None]

_STORE: Store | None = None
_STORE_LOCK = threading.Lock()
_USER_IDS: dict[str, uuid.UUID] = {}


# -- store and identity --------------------------------------------------------------
def store(principal: Principal | None = None) -> Store:
    """The record store for this caller.

    One process-wide store for ``local`` and ``postgres`` (the app enforces ownership with
    ``actor``); for ``supabase`` a store acting with the user's own JWT, so row-level
    security applies in the database as well.
    """
    global _STORE
    from workbench import config
    from workbench.records import open_store

    kind = config.settings().store
    if kind == "supabase" and principal is not None and principal.token:
        return open_store("supabase", jwt=principal.token)
    with _STORE_LOCK:
        if _STORE is None:
            _STORE = open_store()
        return _STORE


def reset_store() -> None:
    """Forget the cached store (tests switch WORKBENCH_HOME between cases)."""
    global _STORE
    with _STORE_LOCK:
        if _STORE is not None:
            _STORE.close()
        _STORE = None
        _USER_IDS.clear()


def user_id(principal: Principal) -> uuid.UUID:
    """The profile id of the caller; the profile is created on first sight.

    Local mode acts as the store's current user (``Store.current_user``: the same profile
    the CLI uses). Server mode uses the JWT's ``sub`` and takes the role and plan from the
    verified token on **every** request: the profile row follows the token, so an admin
    demoted in ``app_metadata`` loses admin with their next request and a promotion counts
    at once (the records' rules read ``profiles.role``). Over the ``supabase`` backend the
    store reads the role from the JWT itself and users cannot write their role.
    """
    if principal.local:
        return _local_user_id(principal)
    st = store(principal)
    uid = _uuid(principal.user_id, "token subject")
    tier = principal.tier if principal.tier in TIERS else "free"
    trusted = st.kind != "supabase"  # over supabase a user writes no role or plan
    found = st.profiles.find(uid)
    if found is None:
        # over supabase the database accepts exactly the token's claims (migration 0006)
        grants = {"role": principal.role, "plan_tier": tier} if trusted else dict(st.new_profile)
        try:
            found = st.profiles.create(id=uid, email=principal.email or None, **grants)
        except WorkbenchError as exc:  # two first requests at once
            if exc.code != "conflict":
                raise
            found = st.profiles.get(uid)
    tier = _with_billing(st, found, tier) if trusted else tier
    if trusted and principal.via == "jwt" and (found.role, found.plan_tier) != (principal.role,
                                                                               tier):
        # trusted: the token. A new role revokes every credential issued before this
        # token (an old JWT still carries the old role): it bumps the token version
        revoke_before = (datetime.fromtimestamp(principal.issued_at, UTC)
                         if principal.issued_at is not None else None)
        st.profiles.update(uid, role=principal.role, plan_tier=tier,
                           revoke_before=revoke_before)
    return uid


def _with_billing(st: Store, found: Any, tier: str) -> str:
    """The higher of the token's plan and the plan billing grants now (the billing
    webhook writes ``profiles.billing_tier``; a lapse due at the period end counts)."""
    from workbench.governance import billing

    if found.billing_tier in (None, "free"):
        return tier
    granted = billing.settle(st, found).billing_tier or "free"
    return max(tier, granted, key=TIERS.index)


def billing_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """``POST /api/v1/billing/stripe``: verify the Stripe signature, apply the event once
    with the service's store (no user: Stripe is the caller)."""
    from workbench.governance import billing

    event = billing.verify(payload, signature)
    return billing.apply_event(store(), event).to_dict()


def _local_user_id(principal: Principal) -> uuid.UUID:
    """The local profile's id; a plan pinned by ``WORKBENCH_LOCAL_TIER`` is written onto the
    profile first, because quotas read ``profiles.plan_tier`` (the env var alone changed
    nothing before: issue #17 item 9)."""
    key = f"{principal.user_id}:{principal.tier}"
    if key in _USER_IDS:
        return _USER_IDS[key]
    st = store(principal)
    found = st.current_user()
    if principal.tier in TIERS and found.plan_tier != principal.tier \
            and st.kind != "supabase":  # over supabase the JWT's claims are the plan
        st.profiles.update(found.id, plan_tier=principal.tier)
    _USER_IDS[key] = found.id
    return found.id


def set_local_plan(principal: Principal, tier: str) -> dict[str, Any]:
    """Switch the plan of local mode's single user (to try the educator flow offline).

    Local mode only: in server mode the plan comes from the verified token's
    ``app_metadata`` on every request, and no page or route lets a user change it.
    """
    if not principal.local:
        raise ForbiddenError("Your plan comes from your account (the identity provider); "
                             "it cannot be changed here.",
                             details={"field": "plan_tier", "mode": "server"})
    if tier not in TIERS:
        raise ValidationError(f"Unknown plan {tier!r}; choose one of {', '.join(TIERS)}.",
                              details={"field": "plan_tier", "value": tier,
                                       "known": list(TIERS)})
    if principal.tier and principal.tier != tier:
        raise ValidationError(f"WORKBENCH_LOCAL_TIER={principal.tier} pins the plan; unset it "
                              "to switch plans here.",
                              details={"field": "plan_tier", "pinned": principal.tier})
    st = store(principal)
    if st.kind == "supabase":
        raise ForbiddenError("Over the supabase backend the plan is your token's "
                             "app_metadata.plan; change it in Supabase.",
                             details={"field": "plan_tier", "store": "supabase"})
    st.profiles.update(user_id(principal), plan_tier=tier)
    return profile(principal)


def profile(principal: Principal) -> dict[str, Any]:
    """The caller's profile (role and plan as the records hold them)."""
    st = store(principal)
    p = st.profiles.get(user_id(principal))
    return {"id": str(p.id), "email": p.email, "display_name": p.display_name,
            "role": p.role, "plan_tier": p.plan_tier, "is_admin": st.is_admin(p)}


def _actor(principal: Principal) -> uuid.UUID:
    return user_id(principal)


def _json(record: Record) -> dict[str, Any]:
    """A record as the API returns it (UUIDs and times as text)."""
    return record.model_dump(mode="json")


def _uuid(value: str, what: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not a UUID.", details={what: value}) from None


# -- personal API tokens and sign-out (workbench.records.tokens) ----------------------
def list_tokens(principal: Principal) -> list[dict[str, Any]]:
    """The caller's personal API tokens by hint (never a hash, never a secret)."""
    from workbench.records import tokens

    return tokens.list_tokens(store(principal), user_id(principal))


def create_token(principal: Principal, name: str, expires_in_days: float | None = None
                 ) -> dict[str, Any]:
    """A new personal API token of the caller; the response is the only time the token
    itself is shown. A personal token cannot mint others (a leaked one could otherwise
    outlive its own revocation): sign in to create tokens."""
    from workbench.records import tokens

    if principal.via == "api_token":
        raise ForbiddenError("A personal API token cannot create tokens; sign in (Supabase "
                             "access token) to create one.",
                             details={"reason": "token_cannot_mint"})
    return tokens.create_token(store(principal), user_id(principal), name,
                               days=expires_in_days).to_dict()


def revoke_token(principal: Principal, token_id: str) -> dict[str, Any]:
    """Revoke one of the caller's tokens (an admin: anyone's), at once."""
    from workbench.records import tokens

    return tokens.revoke_token(store(principal), _uuid(token_id, "token id"),
                               actor=_actor(principal))


def sign_out_everywhere(principal: Principal) -> dict[str, Any]:
    """Revoke every personal token and every access token of the caller issued so far."""
    from workbench.records import tokens

    return tokens.sign_out_everywhere(store(principal), user_id(principal))


def set_account_status(principal: Principal, who: str, status: str, reason: str = ""
                       ) -> dict[str, Any]:
    """Suspend or activate an account (admins only: anyone else gets 403); audited."""
    from workbench.governance import accounts

    st = store(principal)
    return accounts.set_status(st, st.profiles.get(_actor(principal)), _uuid(who, "user id"),
                               status, reason=reason)


def sign_out(principal: Principal) -> dict[str, Any]:
    """Revoke the access token (JWT) of this request alone, by its ``jti``; a personal
    token is revoked like any other."""
    from workbench.records import tokens

    if principal.via == "api_token":
        return revoke_token(principal, principal.token_id or "")
    if principal.local:
        raise ValidationError("Local mode has no sign-in to end.", details={"mode": "local"})
    tokens.revoke_jwt(store(principal), user_id(principal), principal.jti,
                      principal.expires_at)
    return {"revoked": principal.jti}


# -- health ---------------------------------------------------------------------------
def health_checks() -> dict[str, dict[str, Any]]:
    """Store, candle cache and scheduler heartbeat; each ``{"ok": bool, ...}``."""
    from workbench import config
    from workbench.app.logs import get_logger

    # unauthenticated: no paths, URLs or exception texts here (they go to the log)
    checks: dict[str, dict[str, Any]] = {}
    try:
        st = store()
        st.local_user() if st.kind == "local" else st.profiles.list()
        checks["store"] = {"ok": True, "kind": st.kind}
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        get_logger().warning("health: store check failed", exc_info=exc)
        checks["store"] = {"ok": False, "error": type(exc).__name__}
    try:
        series = cached_series()
        checks["cache"] = {"ok": True, "series": len(series)}
    except Exception as exc:  # noqa: BLE001
        get_logger().warning("health: cache check failed (%s)", config.cache_path(), exc_info=exc)
        checks["cache"] = {"ok": False, "error": type(exc).__name__}
    from workbench.paper.scheduler import heartbeat_status

    checks["scheduler"] = {k: v for k, v in heartbeat_status(config.home()).items()
                           if k != "pid"}  # unauthenticated: no process ids either
    checks["mode"] = {"ok": True, "store_kind": config.settings().store,
                      "required": False}
    return checks


# -- candles --------------------------------------------------------------------------
def cached_series() -> list[dict[str, Any]]:
    """What the candle cache holds (symbol, timeframe, rows, first, last, sources)."""
    from workbench.data.cache import open_cache

    cache = open_cache(read_only=True)
    try:
        return [dict(r) for r in cache.list()]
    finally:
        cache.close()


def push_candles(body: m.CandlesPush) -> dict[str, Any]:
    """Validate and write pushed candles, all or nothing (the cache runs the data checks)."""
    import numpy as np
    import pandas as pd

    from workbench.data.cache import open_cache
    from workbench.data.candles import to_ns

    rows = body.candles
    frame = pd.DataFrame({
        "ts": np.array([_ts_ns(c.ts, to_ns) for c in rows], dtype=np.int64),
        "open": [c.open for c in rows], "high": [c.high for c in rows],
        "low": [c.low for c in rows], "close": [c.close for c in rows],
        "volume": [c.volume for c in rows],
    })
    cache = open_cache()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = cache.upsert(frame, body.symbol, body.timeframe, body.source)
    finally:
        cache.close()
    return {"symbol": body.symbol, "timeframe": body.timeframe, "received": len(frame),
            "written": int(report["written"]),
            "warnings": [str(w.message) for w in caught]}


def _ts_ns(value: Any, to_ns: Callable[[Any], int]) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(round(float(value) * 1e9))  # epoch seconds
    return int(to_ns(value))


def read_candles(q: m.CandlesQuery) -> dict[str, Any]:
    from workbench.data.cache import open_cache

    cache = open_cache(read_only=True)
    try:
        frame = cache.read_frame(q.symbol, q.timeframe, q.start, q.end)
    finally:
        cache.close()
    frame = frame.tail(q.limit)
    cols = {c: frame[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")}
    out = [{"ts": ts.isoformat(), **{c: float(cols[c][i]) for c in cols}}
           for i, ts in enumerate(frame.index)]
    return {"symbol": q.symbol, "timeframe": q.timeframe, "count": len(out), "candles": out}


def check_candle_writer(principal: Principal) -> None:
    """The candle cache is shared by every user of a server: in server mode only an admin
    writes it (data feeds push with an ingest key, ``POST /api/v1/candles``). Local mode's
    single user owns their cache."""
    if principal.local or principal.is_admin:
        return
    raise ForbiddenError(
        "Only an admin may write the shared candle cache on a server; data feeds push "
        "candles with an ingest key (POST /api/v1/candles with X-API-KEY).",
        details={"role": principal.role, "needs": "admin"})


def import_candle_file(principal: Principal, path: str, symbol: str | None = None,
                       timeframe: str | None = None) -> dict[str, Any]:
    """Import a CSV/Parquet file into the cache, whole or not at all (the Data page)."""
    from workbench.data.cache import open_cache

    check_candle_writer(principal)
    cache = open_cache()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = cache.import_file(path, symbol or None, timeframe or None)
    finally:
        cache.close()
    return {"symbol": out["symbol"], "timeframe": out["timeframe"],
            "rows": int(out["written"]), "total_rows": out.get("rows"),
            "warnings": [str(w.message) for w in caught]}


# -- strategies -----------------------------------------------------------------------
def catalog() -> dict[str, Any]:
    from workbench.blocks import catalog_json

    return catalog_json()


def starter_graph(name: str = "sma_crossover") -> dict[str, Any]:
    from workbench import api

    return dict(api.starter(name).document)


def validate_graph(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """Validation problems as dicts ``{node, port, code, message}`` (never raises)."""
    from workbench import api

    try:
        problems = api.validate(graph)
    except WorkbenchError as exc:
        return [{"node": None, "port": None, "code": exc.code, "message": exc.message}]
    return [p.model_dump(mode="json") for p in problems]


def list_strategies(principal: Principal) -> list[dict[str, Any]]:
    st = store(principal)
    uid = _actor(principal)
    out = []
    for s in st.strategies.list(owner_id=uid):
        item = _json(s)
        try:
            latest = st.versions.latest(s.id, actor=uid)
            item["latest_version"] = {"id": str(latest.id), "version": latest.version,
                                      "notes": latest.notes,
                                      "created_at": latest.created_at.isoformat()}
        except NotFoundError:
            item["latest_version"] = None
        out.append(item)
    return out


def save_strategy(principal: Principal, body: m.StrategySave) -> dict[str, Any]:
    """A new immutable version (and the strategy itself when new): see
    :func:`workbench.runs.strategies.save_version` for the rule."""
    from workbench.runs.strategies import save_version

    saved = save_version(store(principal), _actor(principal), body.graph,
                         strategy_id=_uuid(body.strategy_id, "strategy_id")
                         if body.strategy_id else None, name=body.name, notes=body.notes)
    return saved.to_dict()


def strategy_summaries(principal: Principal, query: str = "") -> list[dict[str, Any]]:
    """The caller's strategies for the strategy browser (name, version, updated time)."""
    from workbench.runs.strategies import summaries

    return summaries(store(principal), _actor(principal), query)


def open_strategy(principal: Principal, strategy_id: str, version: int | None = None
                  ) -> dict[str, Any]:
    """A saved strategy's latest (or numbered) version to edit, with its version list."""
    from workbench.runs import strategies

    st, uid = store(principal), _actor(principal)
    opened = strategies.open_strategy(st, uid, _uuid(strategy_id, "strategy_id"), version)
    return {**opened.to_dict(), "graph": dict(opened.version.graph),
            "versions": strategies.versions(st, uid, opened.strategy.id)}


def rename_strategy(principal: Principal, strategy_id: str, name: str) -> dict[str, Any]:
    from workbench.runs.strategies import rename

    out = rename(store(principal), _actor(principal), _uuid(strategy_id, "strategy_id"), name)
    return {"strategy_id": str(out.id), "name": out.name}


def duplicate_strategy(principal: Principal, strategy_id: str) -> dict[str, Any]:
    from workbench.runs.strategies import duplicate

    return duplicate(store(principal), _actor(principal),
                     _uuid(strategy_id, "strategy_id")).to_dict()


def archive_strategy(principal: Principal, strategy_id: str) -> dict[str, Any]:
    """Archive (the strategy leaves the list; its versions and runs stay)."""
    from workbench.runs.strategies import archive

    out = archive(store(principal), _actor(principal), _uuid(strategy_id, "strategy_id"))
    return {"strategy_id": str(out.id), "name": out.name, "status": out.status}


def version_graph(principal: Principal, version_id: str) -> dict[str, Any]:
    """The graph of one of the user's saved strategy versions (another's is not found)."""
    st = store(principal)
    return dict(st.versions.get(_uuid(version_id, "version_id"), actor=_actor(principal)).graph)


def strategy_versions(principal: Principal, strategy_id: str) -> list[dict[str, Any]]:
    st = store(principal)
    return [_json(v) for v in st.versions.list(_uuid(strategy_id), actor=_actor(principal))]


# -- backtests ------------------------------------------------------------------------
def resolve_strategy(principal: Principal, body: m.BacktestRequest
                     ) -> tuple[dict[str, Any], uuid.UUID | None, uuid.UUID | None]:
    """``(graph, strategy_id, version_id)`` for a backtest request."""
    st = store(principal)
    uid = _actor(principal)
    if body.strategy_version_id:
        version = st.versions.get(_uuid(body.strategy_version_id, "strategy_version_id"),
                                  actor=uid)
        return dict(version.graph), version.strategy_id, version.id
    if body.strategy_id:
        version = st.versions.latest(_uuid(body.strategy_id, "strategy_id"), actor=uid)
        return dict(version.graph), version.strategy_id, version.id
    if isinstance(body.strategy, str):
        return starter_graph(body.strategy), None, None
    if isinstance(body.strategy, dict):
        return dict(body.strategy), None, None
    raise ValidationError("Say what to backtest: 'strategy' (a graph or a starter name), "
                          "'strategy_id' or 'strategy_version_id'.",
                          details={"fields": ["strategy", "strategy_id", "strategy_version_id"]})


def submit_backtest(principal: Principal, body: m.BacktestRequest, jobs: JobRunner,
                    *, watcher: Callable[[Any], None] | None = None,
                    source: str = "app") -> str:
    """Check the graph and the quota, create the queued run, start it; returns the run id.

    Bad graphs, portfolio rules the graph cannot honour (a ``ranking`` that is not one of
    its float series, rebalancing without a target weight) and an exceeded quota fail
    here (4xx), before anything is queued or counted. ``source`` is the host the run
    record names (``make demo`` says ``demo``).
    """
    from workbench.graph.universe import check_portfolio as portfolio_options
    from workbench.runs.backtests import execute_backtest, submit_backtest

    graph, strategy_id, version_id = resolve_strategy(principal, body)
    portfolio_options(body.portfolio_rules(), graph)
    st = store(principal)
    uid = _actor(principal)
    run = submit_backtest(st, uid, graph, symbol=body.symbol, timeframe=body.timeframe,
                          start=body.start, end=body.end, params=body.params,
                          settings=body.settings, strategy_id=strategy_id,
                          version_id=version_id, source=source, symbols=body.symbols,
                          universe=body.universe, portfolio=body.portfolio_rules())
    run_id = str(run.id)

    def work(progress: Progress) -> dict[str, Any]:
        from workbench.app import workers

        processes = workers.pool()  # the server's: the run's Python work leaves its GIL
        if processes is None:
            return execute_backtest(st, uid, run_id, graph, run.parameters, progress)
        return workers.run_in_pool(processes, principal, run_id, dict(graph),
                                   dict(run.parameters), progress)

    jobs.submit("backtest", str(uid), work, job_id=run_id, watcher=watcher)
    return run_id


def _with_progress(out: dict[str, Any], run_id: uuid.UUID, status: str,
                   jobs: JobRunner | None) -> dict[str, Any]:
    """``out`` with the background job's progress and message (and its error, when the
    run record has none yet); a run no job follows is 0 or 1 by its status."""
    job = jobs.find(str(run_id)) if jobs is not None else None
    if job is not None:
        out["progress"], out["message"] = job.progress, job.message
        if job.error and not out["error"]:
            out["error"] = job.error
    else:
        out["progress"] = 1.0 if status in ("succeeded", "failed") else 0.0
    return out


def get_backtest(principal: Principal, run_id: str, jobs: JobRunner | None = None
                 ) -> dict[str, Any]:
    from workbench.runs.labels import label_of

    st = store(principal)
    run = st.backtests.get(_uuid(run_id, "run id"), actor=_actor(principal))
    out: dict[str, Any] = {"id": str(run.id), "status": run.status, "parameters": public_parameters(run.parameters),
           "metrics": run.metrics, "error": run.error, "created_at": run.created_at.isoformat(),
           "label": label_of(st, _actor(principal), run, when=True)}
    return _with_progress(out, run.id, run.status, jobs)


def list_backtests(principal: Principal, limit: int = 50) -> list[dict[str, Any]]:
    from workbench.runs.labels import label_of

    st = store(principal)
    uid = _actor(principal)
    runs = st.backtests.list(owner_id=uid, limit=limit)
    versions: dict[Any, Any] = {}
    return [{"id": str(r.id), "status": r.status, "parameters": public_parameters(r.parameters),
             "metrics": r.metrics, "created_at": r.created_at.isoformat(),
             "strategy_id": str(r.strategy_id) if r.strategy_id else None,
             "error": r.error, "label": label_of(st, uid, r, when=True, cache=versions)}
            for r in runs]


def load_result(principal: Principal, run_id: str) -> dict[str, Any]:
    """The stored result document of a succeeded run (:mod:`workbench.runs.document`)."""
    from workbench.runs.backtests import load_result

    return load_result(store(principal), _actor(principal), _uuid(run_id, "run id"))


# -- sweeps and walk-forwards ---------------------------------------------------------
def research_graph(principal: Principal, strategy: str
                   ) -> tuple[dict[str, Any], uuid.UUID | None, uuid.UUID | None]:
    """``(graph, strategy_id, version_id)`` of a saved strategy of the caller (its id:
    the latest version) or of a starter (its name)."""
    try:
        sid = uuid.UUID(str(strategy))
    except ValueError:
        return starter_graph(strategy), None, None
    version = store(principal).versions.latest(sid, actor=_actor(principal))
    return dict(version.graph), version.strategy_id, version.id


def sweepable_params(principal: Principal, strategy: str) -> list[dict[str, Any]]:
    """The numeric params of a strategy's graph with pre-filled ranges
    (:func:`workbench.runs.research.numeric_params`)."""
    from workbench.runs.research import numeric_params

    return numeric_params(research_graph(principal, strategy)[0])


def submit_research(principal: Principal, kind: str, strategy: str, jobs: JobRunner, *,
                    watcher: Callable[[Any], None] | None = None, **spec: Any) -> str:
    """Queue a recorded sweep or walk-forward (``spec`` as
    :func:`workbench.runs.research.submit_research` takes it); returns the run id, which is
    also the job id. A bad graph, grid or metric and an exceeded quota fail here."""
    from workbench.runs.research import execute_research, submit_research

    graph, strategy_id, version_id = research_graph(principal, strategy)
    st = store(principal)
    uid = _actor(principal)
    run = submit_research(st, uid, kind, graph, strategy_id=strategy_id,
                          version_id=version_id, source="app", **spec)

    def work(progress: Progress) -> dict[str, Any]:
        return execute_research(st, uid, run.id, graph, progress)

    jobs.submit(kind, str(uid), work, job_id=str(run.id), watcher=watcher)
    return str(run.id)


def research_status(principal: Principal, run_id: str, jobs: JobRunner | None = None
                    ) -> dict[str, Any]:
    """A sweep or walk-forward as a poll sees it: its stored document once it succeeded,
    else its status (with the job's progress while it runs, the error once it failed)."""
    from workbench.runs.research import describe, load_research

    st = store(principal)
    uid = _actor(principal)
    run = st.research.get(_uuid(run_id, "run id"), actor=uid)
    if run.status == "succeeded" and (run.provenance or {}).get("result_uri"):
        return load_research(st, uid, run.id)
    out = describe(run)
    return _with_progress(out, run.id, run.status, jobs)


def list_research(principal: Principal, kind: str | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
    from workbench.runs.research import list_research

    return list_research(store(principal), _actor(principal), kind=kind, limit=limit)


def load_research(principal: Principal, run_id: str) -> dict[str, Any]:
    """The stored document of a sweep or walk-forward (:mod:`workbench.runs.research`)."""
    from workbench.runs.research import load_research

    return load_research(store(principal), _actor(principal), _uuid(run_id, "run id"))


# -- paper trading --------------------------------------------------------------------
def list_paper_runs(principal: Principal) -> list[dict[str, Any]]:
    st = store(principal)
    out = []
    for r in st.paper_runs.list(owner_id=_actor(principal)):
        item = _json(r)
        item.pop("state", None)
        out.append(item)
    return out


def get_paper_run(principal: Principal, run_id: str) -> dict[str, Any]:
    """The run as the monitor shows it (:func:`workbench.runs.paper.detail`)."""
    from workbench.runs import paper

    return paper.detail(store(principal), _actor(principal), _uuid(run_id, "run id"))


def paper_notebook(principal: Principal, run_id: str,
                   bar_ts: str | None = None) -> tuple[str, bytes]:
    """``(file name, bytes)`` of the executed notebook of a tick (default the newest)."""
    from workbench.runs import paper

    return paper.tick_notebook(store(principal), _actor(principal), _uuid(run_id, "run id"),
                               bar_ts)


def paper_action(principal: Principal, run_id: str, action: str) -> dict[str, Any]:
    """Pause, resume or stop a run (the records' transitions decide what is allowed)."""
    from workbench.runs import paper

    run = paper.act(store(principal), _actor(principal), _uuid(run_id, "run id"), action)
    out = _json(run)
    out.pop("state", None)
    return out


def paper_form_options(principal: Principal) -> dict[str, Any]:
    """Strategy versions, cached series, alert rules and schedules for the create form."""
    from workbench.runs import paper

    return paper.form_options(store(principal), _actor(principal))


def create_paper_run(principal: Principal, *, version_id: str, symbol: str | None = None,
                     timeframe: str, cash: float, schedule: str, alerts: dict[str, float],
                     source: str = "replay", warmup_bars: int = 0,
                     name: str | None = None, symbols: list[str] | str | None = None,
                     portfolio: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new paper run of a stored strategy version (counts one paper_trade_runs unit), on
    ``symbol`` or on ``symbols`` (a list or a universe name) under ``portfolio`` rules."""
    from workbench.runs import paper

    run = paper.create_run(store(principal), version_id=_uuid(version_id, "version_id"),
                           owner_id=_actor(principal), symbol=symbol, timeframe=timeframe,
                           cash=cash, schedule=schedule, alerts=alerts, source=source,
                           warmup_bars=warmup_bars, name=name or None, symbols=symbols,
                           portfolio=portfolio)
    out = _json(run)
    out.pop("state", None)
    return out


# -- notifications --------------------------------------------------------------------
def list_notifications(principal: Principal, unread: bool = False,
                       limit: int = 50) -> dict[str, Any]:
    st = store(principal)
    uid = _actor(principal)
    items = st.notifications.list(uid, unread_only=unread, channel="in_app", limit=limit)
    return {"unread": st.notifications.unread_count(uid), "items": [_json(n) for n in items]}


def unread_count(principal: Principal) -> int:
    return int(store(principal).notifications.unread_count(_actor(principal)))


def mark_notifications_read(principal: Principal, ids: list[str] | None,
                            all_: bool = False) -> int:
    st = store(principal)
    uid = _actor(principal)
    if all_:
        return int(st.notifications.mark_all_read(uid))
    if not ids:
        raise ValidationError("Pass 'ids' (a list of notification ids) or 'all': true.",
                              details={"fields": ["ids", "all"]})
    for nid in ids:
        st.notifications.mark_read(_uuid(nid, "notification id"), actor=uid)
    return len(ids)


def notification_settings(principal: Principal) -> dict[str, Any]:
    """Where the caller's notifications go (the webhook secret only as set / not set)."""
    from workbench.governance import notifications

    return notifications.describe(notifications.load_settings(_actor(principal),
                                                              store(principal)))


def save_notification_settings(principal: Principal, **changes: Any) -> dict[str, Any]:
    """Change the caller's channel settings (see ``notifications.update_settings``)."""
    from workbench.governance import notifications

    return notifications.describe(notifications.update_settings(
        store(principal), _actor(principal), **changes))


# -- plan usage -----------------------------------------------------------------------
def plan_usage(principal: Principal) -> list[dict[str, Any]]:
    from workbench.governance import quotas

    return [u.to_dict() for u in quotas.usage(store(principal), _actor(principal))]


# -- onboarding -----------------------------------------------------------------------
def onboarding(principal: Principal) -> dict[str, Any]:
    """The caller's first-run checklist (:mod:`workbench.runs.onboarding`)."""
    from workbench.runs import onboarding as ob

    return ob.checklist(store(principal), _actor(principal)).to_dict()


def onboarding_dismiss(principal: Principal, dismissed: bool = True) -> dict[str, Any]:
    """Hide (or show again) the caller's checklist; the caller's own row only."""
    from workbench.runs import onboarding as ob

    return ob.dismiss(store(principal), _actor(principal), dismissed).to_dict()


def onboarding_results_opened(principal: Principal, run_id: str) -> bool:
    """The Results page showed ``run_id`` to the caller (ticks "open its results" once)."""
    from workbench.runs import onboarding as ob

    return ob.note_results_opened(store(principal), _actor(principal),
                                  _uuid(run_id, "run id"))


# -- templates and compliance ---------------------------------------------------------
def list_templates(principal: Principal) -> list[dict[str, Any]]:
    """Published templates the caller may see, plus the caller's own in any status."""
    from workbench.governance import templates

    items = templates.visible_templates(store(principal), _actor(principal))
    return sorted((_json(t) for t in items), key=lambda t: t["created_at"], reverse=True)


def publish_template(principal: Principal, body: m.TemplatePublish) -> dict[str, Any]:
    """Submit a version for publishing: it waits in review until a disclosure is approved
    (and counts against the plan's ``template_publishes``)."""
    from workbench.governance import templates

    tpl = templates.request_publish(
        store(principal), _actor(principal), _uuid(body.strategy_version_id,
                                                    "strategy_version_id"),
        title=body.title, audience=body.audience, cohort_id=body.cohort_id,
        metadata={"description": body.description, "disclaimers": list(body.disclaimers),
                  "tags": list(body.tags)})
    return _json(tpl)


def clone_template(principal: Principal, template_id: str) -> dict[str, Any]:
    from workbench.governance import templates

    out = templates.clone(store(principal), _uuid(template_id, "template id"),
                          _actor(principal))
    return {"strategy_id": str(out.strategy.id), "name": out.strategy.name,
            "version_id": str(out.version.id), "version": out.version.version,
            "attribution": out.attribution}


def compliance_queue(principal: Principal) -> list[dict[str, Any]]:
    """Open and escalated reviews, oldest first, each with its subject (title,
    disclaimers, graph, backtest summary, submitter); admins only (ForbiddenError
    otherwise)."""
    from workbench.governance import review

    return review.queue_items(store(principal), _actor(principal))


def compliance_decide(principal: Principal, event_id: str, decision: str,
                      reason: str = "") -> dict[str, Any]:
    """Approve, reject or escalate (a reason is required; it goes into the audit chain)."""
    from workbench.governance import compliance

    event = compliance.decide(store(principal), _uuid(event_id, "event id"), decision,
                              reviewer_id=_actor(principal), reason=reason)
    return _json(event)
