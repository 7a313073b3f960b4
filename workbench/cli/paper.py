"""``workbench paper ...`` and ``workbench scheduler`` (heavy imports inside commands)."""

from __future__ import annotations

from typing import Any

import typer

from workbench.cli._tables import print_table
from workbench.cli.common import echo_json, handle_errors
from workbench.cli.common import open_store as _store

paper_app = typer.Typer(help="Paper trading: runs that tick on a schedule, each tick an "
                             "executed notebook.", no_args_is_help=True)


def _run_row(run: Any) -> dict[str, Any]:
    snap = run.performance_snapshot or {}
    return {"id": str(run.id), "name": run.name, "symbol": run.symbol,
            "symbols": run.parameters.get("symbols") or [run.symbol],
            "timeframe": run.timeframe, "status": run.status, "schedule": run.schedule,
            "source": run.parameters.get("source"), "last_bar_ts": run.last_bar_ts,
            "last_execution_at": run.last_execution_at, "equity": snap.get("equity"),
            "total_return": snap.get("total_return")}


@paper_app.command("create")
@handle_errors
def create(target: str = typer.Argument(..., help="A *.strategy.json file or a starter name."),
           symbol: str = typer.Option(None, "--symbol", help="One symbol (or --symbols)."),
           symbols: str = typer.Option(None, "--symbols",
                                       help="A universe: SYM,SYM,... or a universe name "
                                            "(`workbench universe list`); one shared cash "
                                            "account."),
           max_positions: int = typer.Option(None, "--max-positions",
                                             help="universe: open positions at most "
                                                  "(0 = no limit)."),
           allocation: str = typer.Option(None, "--allocation",
                                          help="universe: sizing (the strategy's), equal, "
                                               "fixed_fraction or risk."),
           alloc_value: float = typer.Option(None, "--alloc-value",
                                             help="universe: fraction of equity for "
                                                  "fixed_fraction / risk (0.1 = 10%)."),
           rebalance_every: int = typer.Option(None, "--rebalance-every",
                                               help="universe: trade open positions back to "
                                                    "their equal / fixed_fraction target "
                                                    "every N bars (0 = never)."),
           timeframe: str = typer.Option(..., "--timeframe"),
           cash: float = typer.Option(10_000.0, "--cash", help="Initial cash (quote currency)."),
           schedule: str = typer.Option("*/5 * * * *", "--schedule", help="Cron, in --tz."),
           alert: list[str] = typer.Option(None, "--alert",
                                           help="NAME=VALUE: drawdown=0.1, loss_streak=5, "
                                                "no_data=5 (bars), gap_sigma=6, drift=1."),
           source: str = typer.Option("replay", "--source", help="replay, cache or ccxt."),
           start: str = typer.Option(None, "--start", help="First bar (ISO date)."),
           tz: str = typer.Option("UTC", "--tz", help="Timezone of the schedule."),
           warmup_bars: int = typer.Option(0, "--warmup-bars",
                                           help="replay: bars already closed at the start."),
           exchange: str = typer.Option(None, "--exchange", help="ccxt: exchange id."),
           name: str = typer.Option(None, "--name"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Create a paper run (counts one paper_trade_runs unit of your plan). With --alert,
    exactly the named rules are on; without, the defaults. With --symbols the run trades a
    universe on one cash account, under the portfolio rules of a universe backtest
    (--max-positions, --allocation, --alloc-value, --rebalance-every)."""
    from workbench.runs.paper import create_run

    store = _store()
    given = {"max_positions": max_positions, "allocation": allocation, "alloc_value": alloc_value,
             "rebalance_every": rebalance_every}
    rules = {k: v for k, v in given.items() if v is not None} or None
    run = create_run(store, target, symbol=symbol, symbols=symbols, portfolio=rules,
                     timeframe=timeframe, cash=cash,
                     schedule=schedule, alerts=alert or None, source=source, start=start, tz=tz,
                     warmup_bars=warmup_bars, exchange=exchange, name=name)
    if as_json:
        echo_json(_run_row(run))
    else:
        typer.echo(f"created paper run {run.id} ({run.name}), schedule {run.schedule!r} {tz}")


def _status_command(action: str) -> Any:
    @handle_errors
    def command(run: str = typer.Argument(..., help="Run id (or a unique prefix)."),
                as_json: bool = typer.Option(False, "--json")) -> None:
        from workbench.paper import control
        from workbench.runs import paper

        store = _store()
        found = control.find_run(store, run)
        changed = paper.act(store, store.current_user().id, found.id, action)
        if as_json:
            echo_json(_run_row(changed))
        else:
            typer.echo(f"{changed.id}: {changed.status}")

    command.__doc__ = {"pause": "Pause a run (due ticks are skipped).",
                       "resume": "Resume a paused or stopped run (the next tick catches up).",
                       "stop": "Stop a run (no ticks until resumed; its ledger stays)."}[action]
    return command


for _action in ("pause", "resume", "stop"):
    paper_app.command(_action)(_status_command(_action))


@paper_app.command("list")
@handle_errors
def list_runs(as_json: bool = typer.Option(False, "--json")) -> None:
    """Your paper runs, newest first."""
    store = _store()
    rows = [_run_row(r) for r in store.paper_runs.list(owner_id=store.current_user().id)]
    if as_json:
        echo_json(rows)
        return
    print_table(["id", "status", "symbol", "tf", "schedule", "last bar", ">equity", "name"],
                [(r["id"], r["status"], r["symbol"], r["timeframe"], r["schedule"],
                  r["last_bar_ts"], None if r["equity"] is None else f"{r['equity']:.2f}",
                  r["name"]) for r in rows], empty="no paper runs: workbench paper create ...")


@paper_app.command("show")
@handle_errors
def show(run: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """One run: state, snapshot, latest ticks and fills."""
    from workbench.paper import control, views

    store = _store()
    found = control.find_run(store, run)
    store.paper_runs.get(found.id, actor=store.current_user())
    ticks = store.ticks.list(found.id, limit=10)
    fills = views.fills_frame(store, found.id, last=20)
    if as_json:
        echo_json({**_run_row(found), "state": found.state, "alert_config": found.alert_config,
                   "performance_snapshot": found.performance_snapshot,
                   "ticks": [t.model_dump(mode="json") for t in ticks],
                   "fills": fills.to_dict(orient="records")})
        return
    typer.echo(views.state_frame(store, found.id).to_string())
    typer.echo("\nlatest ticks:")
    for t in ticks:
        typer.echo(f"  {t.bar_ts.isoformat()}  {t.status:<9} {t.notebook_path or ''} {t.error or ''}")
    typer.echo("\nlatest fills:")
    typer.echo(fills.to_string(index=False) if len(fills) else "  (none)")


@paper_app.command("tick")
@handle_errors
def tick_cmd(run: str = typer.Argument(None, help="Run id (or prefix); or use --due."),
             due: bool = typer.Option(False, "--due", help="Every run with a due slot."),
             as_of: str = typer.Option(None, "--as-of", help="The tick's time (ISO, UTC); "
                                                             "default now."),
             engine: str = typer.Option("papermill", "--engine",
                                        help="papermill (executes the notebook in a new kernel), warm (the same, on a "
                                             "kernel kept across this process's ticks: --due) or "
                                             "inprocess (no notebook)."),
             timeout: float = typer.Option(120.0, "--timeout", help="Seconds per cell."),
             cluster: str = typer.Option(None, "--cluster", help="With --due: one task per run on the "
                                                                "dask scheduler at tcp://HOST:8786."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Execute the paper-trade notebook for one run or for every due run."""
    from workbench.errors import ValidationError
    from workbench.paper import control, runner

    if bool(run) == due:
        raise ValidationError("Give a RUN_ID or --due (not both).", details={})
    store = _store()
    if due and cluster:  # workbench.distributed (and dask) imported only here
        from workbench.distributed.ticks import tick_due as cluster_tick_due

        reports = cluster_tick_due(cluster, as_of, store=store, engine=engine, timeout=timeout)
    elif due:  # every due run in this process: keep their arrays on the heap
        from workbench.engine.heap import tune

        tune()
        reports = runner.tick_due(store, as_of, engine=engine, timeout=timeout)
    else:
        found = control.find_run(store, run)
        reports = [runner.tick(store, found.id, as_of, engine=engine, timeout=timeout)]
    if as_json:
        echo_json([r.to_dict() for r in reports])
    else:
        print_table(["run", "status", "bar", ">fills", ">alerts", ">seconds", "notebook", "error"],
                    [(r.run_id, r.status, r.bar_ts, r.fills, r.alerts, f"{r.seconds:.2f}",
                      r.notebook, r.error) for r in reports], empty="no due runs")
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)


@paper_app.command("prune")
@handle_errors
def prune_cmd(run: str = typer.Argument(None, help="Run id (or prefix); default every run."),
              keep: int = typer.Option(None, "--keep", help="Succeeded notebooks kept per run "
                                                            "(default $WORKBENCH_PAPER_KEEP or 100)."),
              dry_run: bool = typer.Option(False, "--dry-run", help="Only count."),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete old stored tick notebooks: keep the newest N per run and every failure."""
    from workbench.paper import control, retention

    store = _store()
    ids = [control.find_run(store, run).id] if run else None
    done = retention.prune(store, ids, keep, dry_run=dry_run)
    if as_json:
        echo_json([p.to_dict() for p in done])
        return
    print_table(["run", ">kept", ">would delete" if dry_run else ">deleted", ">bytes freed"],
                [(p.run_id, p.kept, p.deleted, p.bytes_freed) for p in done])


@paper_app.command("cron")
def cron(every: str = typer.Option("* * * * *", "--every")) -> None:
    """Print crontab lines that tick due runs (for the system's cron)."""
    from workbench.paper.unitfiles import crontab

    typer.echo(crontab(every), nl=False)


@paper_app.command("systemd")
def systemd(name: str = typer.Option("workbench-paper", "--name")) -> None:
    """Print a systemd .service + .timer pair that tick due runs."""
    from workbench.paper.unitfiles import systemd as units

    typer.echo(units(name), nl=False)


@handle_errors
def scheduler(workers: int = typer.Option(2, "--workers", help="Ticks at once."),
              poll: float = typer.Option(1.0, "--poll", help="Seconds between checks."),
              engine: str = typer.Option("warm", "--engine",
                                         help="warm (long-lived workers with a warm kernel), "
                                              "papermill (a process and kernel per tick) or "
                                              "inprocess (no notebook)."),
              timeout: float = typer.Option(120.0, "--timeout", help="Seconds per cell."),
              max_catchup: int = typer.Option(10, "--max-catchup",
                                              help="Most missed slots run per run."),
              grace: float = typer.Option(60.0, "--grace",
                                          help="Seconds running ticks get after SIGTERM."),
              clock: str = typer.Option("wall", "--clock", help="wall or replay."),
              clock_start: str = typer.Option(None, "--clock-start",
                                              help="replay: simulated start time (ISO)."),
              speed: float = typer.Option(60.0, "--speed",
                                          help="replay: simulated seconds per real second."),
              once: bool = typer.Option(False, "--once", help="Catch up, then exit.")) -> None:
    """Run due paper ticks in the foreground until SIGTERM (see workbench.paper.scheduler)."""
    from workbench.config import home
    from workbench.errors import UnknownNameError, ValidationError
    from workbench.paper.scheduler import Clock, ReplayClock, Scheduler

    if clock == "replay":
        if not clock_start:
            raise ValidationError("--clock replay needs --clock-start (ISO time).", details={})
        clk: Clock = ReplayClock(clock_start, speed)  # type: ignore[arg-type]
    elif clock == "wall":
        clk = Clock()
    else:
        raise UnknownNameError.build("clock", clock, ["wall", "replay"])
    if workers < 1:
        raise ValidationError("--workers must be >= 1.", details={"workers": workers})
    sched = Scheduler(home(), clock=clk, max_workers=workers, poll=poll, engine=engine,
                      timeout=timeout, max_catchup=max_catchup, grace=grace)
    started = sched.run(once=once)
    typer.echo(f"scheduler stopped: {started} tick(s) started")


def register(root: typer.Typer) -> None:
    """``workbench paper ...`` and the top-level ``workbench scheduler``."""
    root.add_typer(paper_app, name="paper")
    root.command("scheduler")(scheduler)
