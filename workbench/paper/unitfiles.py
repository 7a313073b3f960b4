"""Crontab lines and a systemd service + timer, for users who prefer the system's
scheduler to ``workbench scheduler``. Both call ``workbench paper tick --due`` once a
minute with the environment spelled out (cron and systemd start with an empty one)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

ENV_VARS = ("WORKBENCH_HOME", "WORKBENCH_STORE", "WORKBENCH_CACHE", "NUMBA_CACHE_DIR",
            "WORKBENCH_USER_ID")


def _workbench() -> str:
    exe = shutil.which("workbench") or str(Path(sys.executable).with_name("workbench"))
    return exe


def _env() -> dict[str, str]:
    from workbench.config import home

    env = {k: os.environ[k] for k in ENV_VARS if os.environ.get(k)}
    env.setdefault("WORKBENCH_HOME", str(home()))
    return env


def crontab(every: str = "* * * * *") -> str:
    """Crontab lines: the environment, then ``tick --due`` (a run's own cron decides
    whether it is due, so one line serves every run). Secrets such as
    WORKBENCH_DATABASE_URL belong in a file only you can read, sourced by the line."""
    from workbench.config import home

    lines = ["# workbench paper trading: tick every due run (crontab -e, paste these lines)"]
    lines += [f"{k}={v}" for k, v in _env().items()]
    log = home() / "paper-cron.log"
    lines.append(f"{every} {shlex.quote(_workbench())} paper tick --due "
                 f">> {shlex.quote(str(log))} 2>&1")
    return "\n".join(lines) + "\n"


def systemd(name: str = "workbench-paper") -> str:
    """A ``.service`` (oneshot ``tick --due``) and a ``.timer`` (every minute, catching
    up a missed start after boot), separated by a ``# ---`` line."""
    env = "\n".join(f"Environment={k}={shlex.quote(v)}" for k, v in _env().items())
    service = f"""# ~/.config/systemd/user/{name}.service
[Unit]
Description=Blockbuilders Workbench: tick due paper-trading runs

[Service]
Type=oneshot
{env}
# EnvironmentFile=%h/.config/workbench/secrets.env   # WORKBENCH_DATABASE_URL=...
ExecStart={_workbench()} paper tick --due
TimeoutStartSec=900
"""
    timer = f"""# ~/.config/systemd/user/{name}.timer
[Unit]
Description=Run {name}.service every minute

[Timer]
OnCalendar=*-*-* *:*:00
Persistent=true
AccuracySec=1s

[Install]
WantedBy=timers.target
# enable: systemctl --user daemon-reload && systemctl --user enable --now {name}.timer
"""
    return service + "# ---\n" + timer
