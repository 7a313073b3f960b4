"""A warm kernel for paper ticks: one kernel kept alive across ticks of a long-lived
process (``workbench paper worker``, ``paper tick --due --engine warm``).

A tick through papermill pays for starting a kernel, importing the project in it and
loading the numba cache, then shutting it all down again -- seconds of work around
~10 ms of real computation (issue #19). Here the kernel stays: each tick is still a
papermill execution of ``paper_trade.ipynb`` (same parameters, same executed notebook
stored), but through the ``workbench-warm`` papermill engine, which hands papermill
this kernel instead of a new one.

Isolation between ticks: before each tick the user namespace is cleared (``%reset``
after closing the previous tick's store), so a tick sees only its parameters; modules
stay imported, which is the point. The kernel is restarted when it died, after a
failed or timed-out cell (it may still be busy), and when the settings it was started
with (the ``WORKBENCH_*`` environment, the lock timeout) differ from the caller's.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

ENGINE = "workbench-warm"

#: run in the kernel before each tick: close the previous tick's store (its SQLite
#: handle or PostgreSQL connection), then drop every name the previous tick made (what
#: ``%reset -f`` does, without its full garbage collection: seconds on a loaded machine)
_RESET = """\
try:
    store.close()
except Exception:
    pass
_wb_base = globals().setdefault("_wb_base", frozenset(globals()) | {"_wb_base"})
for _wb_name in [n for n in globals() if n not in _wb_base]:
    del globals()[_wb_name]
Out.clear()
"""
#: run in the kernel once when it starts: it ticks many runs, so their arrays stay on
#: glibc's heap (:func:`workbench.engine.heap.tune`); no name is left behind
_TUNE = """\
import workbench.engine.heap as _wb_heap
_wb_heap.tune()
del _wb_heap
"""


def _environment(timeout: float) -> dict[str, str]:
    """The kernel's environment: this process's, with the tick's lock timeout (a commit
    waits for locks at most the tick's timeout)."""
    env = dict(os.environ)
    env["WORKBENCH_LOCK_TIMEOUT"] = str(timeout)
    return env


def _identity(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What a kernel's behaviour depends on: a change restarts it."""
    return tuple(sorted((k, v) for k, v in env.items()
                        if k.startswith(("WORKBENCH_", "PYTHONPATH", "NUMBA_"))))


class WarmKernel:
    """One kernel, started on first use and reused while it is healthy."""

    def __init__(self) -> None:
        self.km: Any = None
        self.kc: Any = None
        self.identity: tuple[tuple[str, str], ...] = ()
        self.ticks = 0
        self.starts = 0
        self._busy = threading.Lock()  # one tick at a time on one kernel
        # the kernel's folder (its IPC sockets live here, not in the caller's cwd); the
        # runner's temp sweep removes it once this process is gone
        from workbench.paper.runner import TMP_PREFIX

        self._cwd = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-warm-")

    # -- life cycle ---------------------------------------------------------------------
    def _start(self, env: dict[str, str], timeout: float) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        from workbench.paper.runner import _kernel_config, ensure_kernel

        self.shutdown()
        km = AsyncKernelManager(kernel_name=ensure_kernel(), config=_kernel_config())
        if km.transport == "ipc":  # an absolute path: the sockets do not follow the cwd
            km.ip = str(Path(self._cwd) / "kernel")
        run_sync(km.start_kernel)(cwd=self._cwd, env=env)
        try:
            kc = run_sync(_connect)(km)
        except BaseException:
            run_sync(km.shutdown_kernel)(now=True)
            raise
        self.km, self.kc, self.identity = km, kc, _identity(env)
        self.starts += 1
        self.run(_TUNE, timeout)

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def close(self) -> None:
        """Shut the kernel down and remove its folder (at exit)."""
        import shutil

        self.shutdown()
        shutil.rmtree(self._cwd, ignore_errors=True)

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - a dead kernel has nothing left to stop
                pass
        self.km = self.kc = None

    def ready(self, timeout: float) -> None:
        """A live kernel started with today's settings and an empty namespace."""
        env = _environment(timeout)
        if not self.alive() or self.identity != _identity(env):
            self._start(env, timeout)  # its first reset marks the clean namespace
        if self.run(_RESET, timeout).get("status") != "ok":
            self._start(env, timeout)
            self.run(_RESET, timeout)

    def run(self, code: str, timeout: float) -> dict[str, Any]:
        """Execute ``code`` in the kernel; the reply's content (``status``, ...)."""
        from jupyter_core.utils import run_sync

        reply = run_sync(self.kc.execute_interactive)(code, timeout=timeout,
                                                      output_hook=lambda msg: None)
        return dict(reply["content"])

    # -- one tick -----------------------------------------------------------------------
    def execute(self, template: Path, out: Path, parameters: dict[str, Any],
                timeout: float) -> None:
        """papermill's execution of ``template`` into ``out`` on this kernel; a failure
        (raised as papermill raises it) leaves the kernel to be restarted next time."""
        register()
        with self._busy:
            self._execute(template, out, parameters, timeout)

    def _execute(self, template: Path, out: Path, parameters: dict[str, Any],
                 timeout: float) -> None:
        import papermill

        self.ready(timeout)
        ok = False
        try:
            papermill.execute_notebook(
                str(template), str(out), parameters=parameters, engine_name=ENGINE,
                kernel_name=self.km.kernel_name, execution_timeout=timeout,
                request_save_on_cell_execute=False, progress_bar=False, log_output=False,
                warm=self)
            ok = True
        finally:
            self.ticks += 1
            if not ok:  # a timed-out cell may still run; a failed one may have left state
                self.shutdown()


async def _connect(km: Any) -> Any:
    """A client on ``km``, its channels started inside the loop papermill runs on (zmq's
    asyncio sockets belong to the loop they were made in)."""
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
    except BaseException:
        kc.stop_channels()
        raise
    kc.allow_stdin = False
    return kc


def register() -> None:
    """Make ``workbench-warm`` known to papermill (idempotent)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE in papermill_engines._engines:
        return

    class WarmEngine(NBClientEngine):
        """papermill's nbclient engine on a kernel it does not own (never shut down)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60, execution_timeout: Any = None,
                                     warm: WarmKernel | None = None, **kwargs: Any) -> Any:
            from papermill.log import logger

            if warm is None or warm.km is None:
                raise RuntimeError("the workbench-warm engine needs a started WarmKernel")
            client = PapermillNotebookClient(
                nb_man, km=warm.km, kernel_name=kernel_name, timeout=execution_timeout,
                startup_timeout=start_timeout, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file)
            client.kc = warm.kc
            return client.execute()

    papermill_engines.register(ENGINE, WarmEngine)


_kernel: WarmKernel | None = None
_lock = threading.Lock()


def kernel() -> WarmKernel:
    """This process's warm kernel (one per process; shut down at exit)."""
    global _kernel
    with _lock:
        if _kernel is None:
            _kernel = WarmKernel()
            atexit.register(_kernel.close)
        return _kernel
