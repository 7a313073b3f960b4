"""Every environment variable the workbench reads, in one pydantic-settings model.

:func:`settings` builds :class:`Settings` from the environment on every call (never
cached at import: tests and ``workbench serve --server-mode`` change the environment after
import; see :func:`settings` for what it costs). Code reads ``settings().<field>``, never
``os.environ``; an invalid value raises :class:`SettingsError` naming the variable.
``workbench config`` shows the effective values (secrets masked) and prints the README's
configuration table (``--markdown``); ``tests/test_settings.py`` keeps them in sync.

Read by others, not part of the model (listed in :data:`READ_BY_OTHERS`): ``NUMBA_CACHE_DIR``
and ``XDG_CACHE_HOME`` (numba's cache; :mod:`workbench.engine._cache` passes the first to
numba), ``_WORKBENCH_COMPLETE`` (click's shell completion); the environment handed to child
processes (papermill kernels, compaction, cron/systemd units) is passed on as it is.
"""

from __future__ import annotations

import functools
import os
import types
import typing
import uuid
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workbench.errors import ValidationError

PREFIX = "WORKBENCH_"

#: Variables the code passes on or that libraries read; documented, not modelled.
READ_BY_OTHERS: dict[str, tuple[str, str]] = {
    "NUMBA_CACHE_DIR": ("`~/.cache/workbench/numba` (`make`: `./.cache/numba`)",
                        "compiled-kernel cache; the workbench uses a sub-folder keyed by a hash "
                        "of the kernel sources, so an upgrade never runs stale compiled code"),
    "XDG_CACHE_HOME": ("`~/.cache`", "parent of the default `NUMBA_CACHE_DIR`"),
    "MALLOC_MMAP_THRESHOLD_": ("unset (hosts of many backtests set 256 MB)",
                               "read by glibc; unset, `workbench serve` (and its backtest "
                               "workers), the paper worker and its warm kernel, `paper tick "
                               "--due` and the bench scripts raise glibc's mmap and trim "
                               "thresholds to 256 MB (`workbench.engine.heap.tune()`) so "
                               "backtests' large arrays reuse heap pages; importing the "
                               "workbench never does (see \"Engine\"); set either variable "
                               "to keep glibc's own behaviour"),
    "MALLOC_TRIM_THRESHOLD_": ("unset (hosts of many backtests set 256 MB)",
                               "read by glibc; see `MALLOC_MMAP_THRESHOLD_`"),
    "_WORKBENCH_COMPLETE": ("unset", "read by click: `source_bash`, `source_zsh`, `source_fish` "
                            "print the shell-completion script"),
    "JPY_PARENT_PID": ("set by Jupyter", "the Jupyter server that started a kernel: "
                       "`result.plot()` loads bokeh/panel from that server's routes, not a CDN"),
    "JUPYTERLAB_SETTINGS_DIR": ("`<jupyter config dir>/lab/user-settings`",
                                "where JupyterLab keeps its settings: `result.plot()` is dark "
                                "when Lab's chosen theme is"),
}

CommaList = Annotated[list[str], NoDecode]


def _field(default: Any, doc: str, *, shown: str | None = None, secret: bool = False,
           alias: str | None = None, **constraints: Any) -> Any:
    """A setting: its default, a one-line description and how the README shows the default."""
    extra: dict[str, Any] = {"shown": shown if shown is not None else _show(default)}
    if secret:
        extra["secret"] = True
    return Field(default, description=doc, validation_alias=alias, json_schema_extra=extra,
                 **constraints)


def _show(default: Any) -> str:
    if default is None or default == []:
        return "unset"
    if isinstance(default, bool):
        return "`true`" if default else "`false`"
    if isinstance(default, float):
        return f"`{default:g}`"
    return f"`{default}`"


_LIMIT = "daily limit of the {} plan (`-1` = unlimited); see \"Governance\""


class Settings(BaseSettings):
    """The workbench's configuration: a field is ``WORKBENCH_`` + its name in capitals, or its alias."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore",
                                      validate_default=False, frozen=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: Any,
                                   env_settings: Any, dotenv_settings: Any,
                                   file_secret_settings: Any) -> tuple[Any, ...]:
        """The environment only (and keyword arguments): no ``.env`` or secrets folder."""
        return init_settings, env_settings

    # where things live
    home: Path | None = _field(None, "folder for the DuckDB candle cache, the local record "
                               "store (`records.sqlite`), executed notebooks and outputs, the "
                               "scheduler's heartbeat; `make demo` uses `./.workbench`",
                               shown="`~/.workbench`")
    cache: Path | None = _field(None, "the candle cache file itself",
                                shown="`$WORKBENCH_HOME/candles.duckdb`")
    # records
    store: str = _field("local", "record backend: `local`, `postgres` or `supabase` (see "
                        "\"Records\")")
    database_url: str | None = _field(None, "`postgres` backend and `workbench db`: connection "
                                      "string `postgresql://user:password@host:5432/db`",
                                      secret=True)
    user_id: uuid.UUID | None = _field(None, "`postgres`: the profile id the CLI acts as",
                                       shown="the local profile")
    supabase_url: str | None = _field(None, "`supabase`: project URL "
                                      "`https://<ref>.supabase.co`", alias="SUPABASE_URL")
    supabase_key: str | None = _field(None, "`supabase`: the project's anon key",
                                      alias="SUPABASE_KEY", secret=True)
    supabase_jwt: str | None = _field(None, "`supabase`: the signed-in user's access token "
                                      "(row-level security applies)", alias="SUPABASE_JWT",
                                      secret=True)
    storage_bucket: str = _field("workbench", "`supabase`: Storage bucket for executed "
                                 "notebooks and exports")
    secret_key: str | None = _field(None, "Fernet key that encrypts exchange API keys and "
                                    "webhook secrets; without it one is generated once (mode "
                                    "0600) — back it up", shown="`$WORKBENCH_HOME/secret.key`",
                                    secret=True)
    key_secret: str | None = _field(None, "`workbench keys add`: the exchange API secret "
                                    "(instead of the hidden prompt)", secret=True)
    lock_timeout: float | None = _field(None, "seconds a transaction waits for a lock (the "
                                        "paper runner sets it for the notebook's kernel)",
                                        shown="wait without limit", gt=0)
    # app and server
    server_mode: bool = _field(False, "a shared deployment: webhooks to internal addresses are "
                               "refused (`serve --server-mode` sets it; set it for the "
                               "scheduler there too)")
    local_role: str = _field("admin", "role of the single user of the local app")
    local_tier: str | None = _field(None, "plan of the single user of the local app (`free`, "
                                    "`premium`, `educator`), written onto the local profile, "
                                    "which quotas read; unset, the stored plan applies (`free` "
                                    "at first; the Plan usage page switches it, local mode "
                                    "only)", shown="the stored plan")
    ingest_keys: CommaList = _field([], "comma-separated API keys accepted by "
                                    "`POST /api/v1/candles` (`X-API-KEY`)", secret=True)
    allowed_hosts: CommaList = _field([], "extra host names the app answers to "
                                      "(comma-separated, no ports)")
    allowed_origins: CommaList = _field([], "extra origins allowed to call the API "
                                        "(comma-separated `scheme://host[:port]`)")
    max_body_mb: float = _field(32.0, "largest API request body, in MB", gt=0)
    max_upload_mb: float = _field(64.0, "largest Data-page upload, in MB (the websocket's "
                                  "message limit follows)", gt=0)
    supabase_jwt_secret: str | None = _field(None, "`serve --server-mode`: HS256 secret that "
                                             "verifies user JWTs", alias="SUPABASE_JWT_SECRET",
                                             secret=True)
    supabase_jwks_url: str | None = _field(None, "`serve --server-mode`: JWKS URL that "
                                           "verifies user JWTs (RS256/ES256)",
                                           alias="SUPABASE_JWKS_URL")
    supabase_jwt_audience: str = _field("authenticated", "`serve --server-mode`: the JWTs' "
                                        "audience", alias="SUPABASE_JWT_AUDIENCE")
    port: int = _field(0, "port of the app `make demo` serves (`0` = a free port)", ge=0)
    # governance
    plans_file: Path | None = _field(None, "plan limits file (see \"Governance\")",
                                     shown="`$WORKBENCH_HOME/plans.json`")
    limit_free_backtests: int | None = _field(None, _LIMIT.format("free"), ge=-1,
                                              shown="built-in plans")
    limit_free_paper_trade_runs: int | None = _field(None, _LIMIT.format("free"), ge=-1,
                                                     shown="built-in plans")
    limit_free_template_publishes: int | None = _field(None, _LIMIT.format("free"), ge=-1,
                                                       shown="built-in plans")
    limit_free_paper_ticks: int | None = _field(None, _LIMIT.format("free"), ge=-1,
                                                shown="built-in plans")
    limit_premium_backtests: int | None = _field(None, _LIMIT.format("premium"), ge=-1,
                                                 shown="built-in plans")
    limit_premium_paper_trade_runs: int | None = _field(None, _LIMIT.format("premium"), ge=-1,
                                                        shown="built-in plans")
    limit_premium_template_publishes: int | None = _field(None, _LIMIT.format("premium"),
                                                          ge=-1, shown="built-in plans")
    limit_premium_paper_ticks: int | None = _field(None, _LIMIT.format("premium"), ge=-1,
                                                   shown="built-in plans")
    limit_educator_backtests: int | None = _field(None, _LIMIT.format("educator"), ge=-1,
                                                  shown="built-in plans")
    limit_educator_paper_trade_runs: int | None = _field(None, _LIMIT.format("educator"),
                                                         ge=-1, shown="built-in plans")
    limit_educator_template_publishes: int | None = _field(None, _LIMIT.format("educator"),
                                                           ge=-1, shown="built-in plans")
    limit_educator_paper_ticks: int | None = _field(None, _LIMIT.format("educator"), ge=-1,
                                                    shown="built-in plans")
    smtp_host: str | None = _field(None, "SMTP server for e-mail notifications (unset: no "
                                   "e-mail)")
    smtp_port: int = _field(25, "port of the SMTP server (`465`: TLS from the start)", gt=0, lt=65536)
    smtp_from: str = _field("workbench@localhost", "sender address of notification e-mails")
    smtp_user: str | None = _field(None, "user name of the SMTP login")
    smtp_password: str | None = _field(None, "password of the SMTP login", secret=True)
    smtp_starttls: bool = _field(False, "upgrade the SMTP connection with STARTTLS")
    smtp_timeout: float = _field(10.0, "seconds per SMTP connection", gt=0)
    webhook_url: str | None = _field(None, "default webhook for every user without their own "
                                     "notification settings")
    webhook_secret: str | None = _field(None, "HMAC-SHA256 key that signs the default "
                                        "webhook's requests", secret=True)
    # billing (Stripe)
    stripe_webhook_secret: str | None = _field(
        None, "signing secret (`whsec_...`) of the Stripe webhook endpoint "
        "`POST /api/v1/billing/stripe` (unset: billing webhooks are refused); see \"Billing\"",
        alias="STRIPE_WEBHOOK_SECRET", secret=True)
    stripe_webhook_tolerance: int = _field(
        300, "seconds a Stripe signature's timestamp may be old (replay window)",
        alias="STRIPE_WEBHOOK_TOLERANCE", ge=1)
    stripe_price_tiers: CommaList = _field(
        [], "Stripe price id -> plan tier, comma-separated `price_...=premium`; events for "
        "other prices are recorded and ignored", alias="STRIPE_PRICE_TIERS")
    checkout_url: str | None = _field(
        None, "checkout page (e.g. a Stripe Payment Link) that quota errors' upgrade hint "
        "links to, with `client_reference_id=<profile id>` added")
    # paper trading
    paper_notebook: Path | None = _field(None, "the notebook a paper tick executes",
                                         shown="the packaged `paper_trade.ipynb`")
    paper_keep: int = _field(100, "succeeded tick notebooks kept per run by "
                             "`workbench paper prune`", ge=1)
    paper_crash_at: str | None = _field(None, "tests: SIGKILL the tick at this point (see "
                                        "\"Paper trading\")")
    paper_pause_at: str | None = _field(None, "tests: pause the tick at this point until "
                                        "`WORKBENCH_PAPER_PAUSE_FILE` exists")
    paper_pause_file: Path | None = _field(None, "tests: the file a paused tick waits for")
    app_load_pause_file: Path | None = _field(
        None, "tests: a Results page of `workbench serve` waits on its worker thread until "
        "this file exists before loading the run (the event loop must go on serving)")

    @field_validator("store", mode="before")
    @classmethod
    def _normalize_store(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("ingest_keys", "allowed_hosts", "allowed_origins", "stripe_price_tiers",
                     mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) \
            else value

    def limit(self, tier: str, metric: str) -> int | None:
        """``WORKBENCH_LIMIT_<TIER>_<METRIC>``, or None when it is not set."""
        value: int | None = getattr(self, f"limit_{tier}_{metric}")
        return value


class SettingsError(ValidationError):
    """An environment variable holds a value its setting cannot take."""

    code = "invalid_setting"
    http_status = 500  # the deployment's configuration, not the request, is wrong


def env_name(name: str) -> str:
    """The environment variable of field ``name``."""
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else PREFIX + name.upper()


def settings() -> Settings:
    """The settings from the environment now (raises :class:`SettingsError`).

    Built once per distinct set of ``WORKBENCH_*`` / ``SUPABASE_*`` / ``STRIPE_*`` values (a model build
    costs milliseconds; request handlers and transactions call this), so a changed
    variable is seen on the next call."""
    return _build(tuple(sorted((k, v) for k, v in os.environ.items()
                               if k.upper().startswith((PREFIX, "SUPABASE_", "STRIPE_")))))


@functools.lru_cache(maxsize=16)
def _build(snapshot: tuple[tuple[str, str], ...]) -> Settings:
    try:
        return Settings()
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        loc = str(first["loc"][0]) if first["loc"] else ""
        name = next((n for n in Settings.model_fields if loc in (n, env_name(n))), loc)
        var = env_name(name) if name in Settings.model_fields else name
        shown = "****" if is_secret(name) else repr(os.environ.get(var, first.get("input")))
        raise SettingsError(
            f"{var}={shown} is invalid: {first['msg']}. Fix or unset {var}.",
            details={"variable": var, "problem": first["msg"],
                     "expected": type_name(name) if name in Settings.model_fields else None},
        ) from None


def is_secret(name: str) -> bool:
    field = Settings.model_fields.get(name)
    return bool(field and isinstance(field.json_schema_extra, dict)
                and field.json_schema_extra.get("secret"))


def type_name(name: str) -> str:
    """A reader's name for a field's type (``integer``, ``path``, ...)."""
    annotation = Settings.model_fields[name].annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        return "comma-separated list"
    names: dict[Any, str] = {bool: "boolean", int: "integer", float: "number", str: "text",
                             Path: "path", uuid.UUID: "UUID"}
    return names.get(annotation, str(annotation))


def _shown_default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    return str(extra["shown"]) if isinstance(extra, dict) else _show(field.default)


def markdown_table() -> str:
    """The README's configuration table, generated from :class:`Settings`."""
    lines = ["| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        lines.append(f"| `{env_name(name)}` | {type_name(name)} | {_shown_default(field)} | "
                     f"{field.description} |")
    for var, (default, doc) in READ_BY_OTHERS.items():
        lines.append(f"| `{var}` | read by others | {default} | {doc} |")
    return "\n".join(lines) + "\n"


def effective() -> list[dict[str, Any]]:
    """Every setting's variable, value (secrets masked) and whether the environment set it."""
    current = settings()
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(current, name)
        is_set = name in current.model_fields_set
        if is_secret(name) and value:
            value = "****"
        elif isinstance(value, Path | uuid.UUID):
            value = str(value)
        rows.append({"variable": env_name(name), "value": value, "set": is_set,
                     "default": _shown_default(field).strip("`")})
    return rows


# -- where things live -----------------------------------------------------------------
def home() -> Path:
    """The workbench home folder, created on first use."""
    path = (settings().home or Path.home() / ".workbench").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_path() -> Path:
    """The DuckDB candle cache file."""
    return settings().cache or home() / "candles.duckdb"


def outputs_dir() -> Path:
    path = home() / "outputs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_numba_cache_dir() -> Path:
    # XDG_CACHE_HOME is not the project's: read by others (READ_BY_OTHERS)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench" / "numba"


def engine_source_key() -> str:
    """A short hash of the kernel sources.

    Numba's on-disk cache is keyed by each function's own file only: a cached sweep
    kernel keeps the *old* code of a metrics kernel it calls from another module after
    that module changes. Keying the cache folder by all kernel sources makes any engine
    change start from a fresh folder instead of silently running stale code.
    """
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "engine").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def keyed_numba_cache_dir(root: Path) -> Path:
    """``root/engine-<key>`` (idempotent: a folder already keyed for these sources stays)."""
    name = f"engine-{engine_source_key()}"
    if root.name == name:
        return root
    if root.name.startswith("engine-"):  # keyed for other sources: re-key under its root
        root = root.parent
    return root / name
