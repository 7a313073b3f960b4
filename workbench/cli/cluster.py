"""``workbench cluster ...``: a dask cluster from the command line (info, grid x symbols
sweeps). ``workbench sweep --cluster`` and ``workbench paper tick --due --cluster`` are
the one-symbol sweep and the paper ticks; dask is imported only inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli._tables import print_table
from workbench.cli.common import echo_json, handle_errors

ClusterOpt = Annotated[str, typer.Option("--cluster", help="the dask scheduler, e.g. tcp://HOST:8786")]

cluster_app = typer.Typer(help="A dask.distributed cluster: worker info, grid x symbols sweeps "
                               "(see also: sweep --cluster, paper tick --due --cluster).",
                          no_args_is_help=True)


def _versions(client: Any) -> dict[str, str]:
    import workbench

    return {str(k): str(v) for k, v in client.run(lambda: workbench.__version__).items()}


@cluster_app.command("info")
@handle_errors
def info_cmd(cluster: ClusterOpt, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Workers, threads and memory of a cluster, and the workbench version on each worker
    (it must equal this one: workers run the installed package)."""
    import workbench
    from workbench.distributed.client import client_for

    with client_for(cluster) as client:
        workers = client.scheduler_info()["workers"]
        versions = _versions(client)
    rows = [{"worker": addr, "threads": w.get("nthreads"), "memory_gb": round(w.get("memory_limit", 0) / 1e9, 2),
             "workbench": versions.get(addr), "same_version": versions.get(addr) == workbench.__version__}
            for addr, w in sorted(workers.items())]
    if as_json:
        echo_json({"scheduler": cluster, "client_version": workbench.__version__, "workers": rows})
        return
    typer.echo(f"{cluster}: {len(rows)} worker(s), {sum(r['threads'] or 0 for r in rows)} thread(s)")
    print_table(["worker", ">threads", ">memory GB", "workbench", "note"],
                [(r["worker"], r["threads"], r["memory_gb"], r["workbench"],
                  "" if r["same_version"] else f"differs from {workbench.__version__}")
                 for r in rows])


@cluster_app.command("sweep")
@handle_errors
def sweep_cmd(target: Annotated[str, typer.Argument(help="a *.strategy.json file or a starter name")],
              param: Annotated[list[str], typer.Option("--param", help="NODE.PARAM=SPEC; repeatable")],
              symbol: Annotated[list[str], typer.Option("--symbol", help="a cached symbol; repeatable")],
              timeframe: Annotated[str, typer.Option("--timeframe", help="1m 5m 15m 30m 1h 4h 1d")],
              cluster: ClusterOpt,
              start: Annotated[str | None, typer.Option("--start", help="first bar, inclusive")] = None,
              end: Annotated[str | None, typer.Option("--end", help="end, exclusive")] = None,
              out: Annotated[Path | None, typer.Option("--out", help="write all rows to this CSV")] = None,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Grid x symbols sweep on a cluster: one row per (symbol, combination)."""
    from workbench.distributed.sweeps import sweep
    from workbench.graph.overrides import split_assignment

    grid = dict(split_assignment(p) for p in param)
    frame = sweep(target, grid, symbol, timeframe, client=cluster, start=start, end=end, progress=not as_json)
    if out is not None:
        frame.to_csv(out, index=False)
    if as_json:
        echo_json({"n_rows": len(frame),
                   "rows": frame.to_dict(orient="records")})
    elif out is None:
        typer.echo(frame.to_string(index=False))
    else:
        typer.echo(f"{len(frame)} rows ({len(symbol)} symbol(s)) written to {out}")


def register(root: typer.Typer) -> None:
    """``workbench cluster ...``."""
    root.add_typer(cluster_app, name="cluster")
