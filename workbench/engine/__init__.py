"""The numba backtest engine: pure kernels over numpy arrays.

- :mod:`workbench.engine.indicators` — TA-Lib-defined indicators (``sma``, ``ema``, ...)
- :mod:`workbench.engine.rolling` — rolling-window kernels
- :mod:`workbench.engine.signals` — ``crossed_above``/``crossed_below`` (vectorbt's rule), ``lag``
- :mod:`workbench.engine.simulator` — ``simulate`` (orders, positions, stops, trade log)
- :mod:`workbench.engine.metrics` — ``compute_metrics``, ``METRIC_NAMES``
- :mod:`workbench.engine.sweep` — ``sweep_rules`` (fused) and ``sweep_signals`` (general)

Kernels are ``*_nb`` (``@njit(cache=True)``); the wrappers check input and raise
``workbench.errors.ValidationError``. Nothing here is imported eagerly (importing
the package only pre-loads two scipy BLAS extension modules; see ``_preload_blas``).
"""

ENGINE_VERSION = "1"


def _preload_blas() -> None:
    """Load scipy's ``cython_blas``/``cython_lapack`` extension modules by themselves.

    On its first dispatch in a process (even from a warm cache) numba imports
    ``numba.np.arraymath``, which checks for BLAS with ``import
    scipy.linalg.cython_blas``; that executes the whole ``scipy.linalg`` package (and,
    through scipy's array-API shim, ``numpy.f2py``): ~0.3 s of a new process's ~1 s
    backtest, for functions the engine never calls. With the two extension modules
    already in ``sys.modules`` the check costs ~60 ms and numba's BLAS support (taken
    from the same modules) is unchanged. Skipped when ``scipy.linalg`` is loaded
    already; any failure leaves the normal import to happen.
    """
    import sys

    if "scipy.linalg" in sys.modules or "scipy.linalg.cython_blas" in sys.modules:
        return
    try:
        import importlib.machinery
        import importlib.util
        import os

        spec = importlib.util.find_spec("scipy")
        if spec is None or not spec.submodule_search_locations:
            return
        folder = os.path.join(next(iter(spec.submodule_search_locations)), "linalg")
        suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
        files = os.listdir(folder)
        paths = {}
        for name in ("cython_blas", "cython_lapack"):
            found = [f for f in files if f.startswith(name + ".") and f.endswith(suffixes)]
            if not found:
                return
            paths[name] = os.path.join(folder, found[0])
        for name, path in paths.items():
            mod_spec = importlib.util.spec_from_file_location(f"scipy.linalg.{name}", path)
            if mod_spec is None or mod_spec.loader is None:
                return
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
            sys.modules[f"scipy.linalg.{name}"] = module
    except Exception:  # pragma: no cover - fall back to numba's own import
        return


_preload_blas()
