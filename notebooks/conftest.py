"""Run the notebooks in this folder under nbval, strictly, as part of the test suite.

``pytest`` (testpaths include ``notebooks``), ``pytest notebooks/`` and
``pytest --nbval notebooks/`` all execute every ``*.ipynb`` here in a fresh kernel and
compare each cell's outputs with the ones saved in the notebook (``--nbval``, not
``--nbval-lax``): the saved outputs are the documentation, so a change in a printed
metric is a failure. Cells whose output depends on the time, the machine or the network
(charts with random element ids, provenance with ``run_at``, the exchange fetch, the
widget view) carry the ``nbval-ignore-output`` tag; they still have to run without error.
Cells never executed in the saved notebook (e.g. a papermill template committed clean)
are run but not compared, which is nbval's rule.

The kernel is the Python running pytest (the ``.venv``), as ``--nbval-current-env``
does; the notebooks' ``python3`` kernelspec (what JupyterLab and papermill use) resolves
to the same interpreter (``tests/notebooks`` checks both). Each session gets a throwaway
``WORKBENCH_HOME`` (the notebooks also make their own), so nothing here touches the
user's cache or records.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
_HOME_KEYS = ("WORKBENCH_HOME", "WORKBENCH_CACHE", "WORKBENCH_STORE")
_saved: dict[str, str | None] = {}
_tmp: list[str] = []


def _use_temporary_home() -> None:
    """Kernels inherit this process' environment: point it at a temporary home (once).

    Done at collection, not in ``pytest_sessionstart``, because this conftest is loaded
    only when pytest reaches this folder; kernels start later, at each notebook's setup.
    """
    if _tmp:
        return
    for key in _HOME_KEYS:
        _saved[key] = os.environ.pop(key, None)
    home = tempfile.mkdtemp(prefix="workbench-nbval-")
    _tmp.append(home)
    os.environ["WORKBENCH_HOME"] = home
    os.environ.setdefault("NUMBA_CACHE_DIR", str(HERE.parent / ".cache" / "numba"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for key, value in _saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for path in _tmp:
        shutil.rmtree(path, ignore_errors=True)
    _tmp.clear()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    """Collect the notebooks under strict nbval unless --nbval/--nbval-lax already do."""
    if file_path.suffix != ".ipynb":
        return None
    _use_temporary_home()
    opt = parent.config.option
    if opt.nbval or opt.nbval_lax:
        return None
    if not opt.nbval_kernel_name:
        # The kernel runs this Python (as --nbval-current-env does), whatever kernelspecs
        # the user has installed elsewhere (e.g. a python3 spec in ~/.local).
        opt.nbval_current_env = True
    from nbval.plugin import IPyNbFile

    return IPyNbFile.from_parent(parent, path=file_path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Notebook cells are slow tests (a kernel per notebook): ``-m 'not slow'`` skips them."""
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)
