"""Issue #18: one pydantic-settings model for every environment variable the code reads.

Every field is typed, has a default and a description; a value set after import is seen
(the model is never cached at import); an invalid value is ``invalid_setting`` naming the
variable; the README's table is the one the model generates; no module under
``workbench/`` reads a WORKBENCH_/SUPABASE_ variable from ``os.environ`` itself.
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from workbench import config
from workbench.cli import app
from workbench.config import READ_BY_OTHERS, Settings, SettingsError, env_name, settings
from workbench.errors import ValidationError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"
VARS = {env_name(name): name for name in Settings.model_fields}

# The defaults, written out by hand: a changed default must change this test too.
DEFAULTS: dict[str, Any] = {
    "home": None, "cache": None, "store": "local", "database_url": None, "user_id": None,
    "supabase_url": None, "supabase_key": None, "supabase_jwt": None,
    "storage_bucket": "workbench", "secret_key": None, "key_secret": None,
    "lock_timeout": None, "server_mode": False, "local_role": "admin", "local_tier": None,
    "ingest_keys": [], "allowed_hosts": [], "allowed_origins": [], "max_body_mb": 32.0,
    "max_upload_mb": 64.0, "supabase_jwt_secret": None, "supabase_jwks_url": None,
    "supabase_jwt_audience": "authenticated", "port": 0, "plans_file": None,
    **{f"limit_{t}_{m}": None for t in ("free", "premium", "educator")
       for m in ("backtests", "paper_trade_runs", "template_publishes", "paper_ticks")},
    "smtp_host": None, "smtp_port": 25, "smtp_from": "workbench@localhost", "smtp_user": None,
    "smtp_password": None, "smtp_starttls": False, "smtp_timeout": 10.0, "webhook_url": None,
    "webhook_secret": None, "paper_notebook": None, "paper_keep": 100, "paper_crash_at": None,
    "paper_pause_at": None, "paper_pause_file": None,
    "app_load_pause_file": None,
    "stripe_webhook_secret": None, "stripe_webhook_tolerance": 300, "stripe_price_tiers": [],
    "checkout_url": None,
}

# A valid value per type, and what the model makes of it.
SAMPLES: dict[str, tuple[str, Any]] = {
    "path": ("/tmp/wb-x", Path("/tmp/wb-x")),
    "integer": ("7", 7),
    "number": ("2.5", 2.5),
    "boolean": ("yes", True),
    "text": ("hello", "hello"),
    "UUID": ("6f1c9d4e-1111-4222-8333-444455556666",
             uuid.UUID("6f1c9d4e-1111-4222-8333-444455556666")),
    "comma-separated list": (" a, b ,,c", ["a", "b", "c"]),
}
INVALID = {"path": None, "text": None, "integer": "many", "number": "lots",
           "boolean": "perhaps", "UUID": "not-a-uuid", "comma-separated list": None}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for key in list(os.environ):
        if key.upper().startswith(("WORKBENCH_", "SUPABASE_", "STRIPE_")):
            monkeypatch.delenv(key)
    return monkeypatch


def test_every_field_is_typed_documented_and_defaulted(clean_env: pytest.MonkeyPatch) -> None:
    assert set(DEFAULTS) == set(Settings.model_fields), "a setting without a tested default"
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 10, name
        assert config.type_name(name) in SAMPLES, (name, field.annotation)
        assert isinstance(field.json_schema_extra, dict) and field.json_schema_extra["shown"]
    assert settings().model_dump() == DEFAULTS


@pytest.mark.parametrize("var", sorted(VARS))
def test_each_variable_is_read_when_used_not_at_import(var: str,
                                                       clean_env: pytest.MonkeyPatch) -> None:
    name = VARS[var]
    raw, want = SAMPLES[config.type_name(name)]
    if name in ("paper_keep", "smtp_port", "port") or name.startswith("limit_"):
        raw, want = "3", 3
    if name == "store":
        raw, want = " Postgres ", "postgres"
    before = getattr(settings(), name)
    clean_env.setenv(var, raw)
    assert getattr(settings(), name) == want != before
    clean_env.setenv(var, "")  # empty means unset, as before the model
    assert getattr(settings(), name) == before


@pytest.mark.parametrize("var", sorted(v for v, n in VARS.items()
                                       if INVALID[config.type_name(n)] is not None))
def test_invalid_value_is_an_invalid_setting_error_naming_the_variable(
        var: str, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv(var, INVALID[config.type_name(VARS[var])])
    with pytest.raises(SettingsError) as caught:
        settings()
    err = caught.value
    assert isinstance(err, ValidationError) and err.code == "invalid_setting"
    assert err.details["variable"] == var and f"Fix or unset {var}" in err.message


def test_out_of_range_values_are_refused(clean_env: pytest.MonkeyPatch) -> None:
    for var, value in (("WORKBENCH_PAPER_KEEP", "0"), ("WORKBENCH_MAX_BODY_MB", "-1"),
                       ("WORKBENCH_LIMIT_FREE_BACKTESTS", "-2"), ("WORKBENCH_SMTP_PORT", "70000")):
        clean_env.setenv(var, value)
        with pytest.raises(SettingsError, match=var):
            settings()
        clean_env.delenv(var)


def test_max_body_mb_that_is_not_a_number_is_an_error_not_the_default(
        clean_env: pytest.MonkeyPatch) -> None:
    """It used to fall back to 32 MB silently: a typo went unnoticed."""
    from workbench.app.http.guard import max_body_bytes

    clean_env.setenv("WORKBENCH_MAX_BODY_MB", "8")
    assert max_body_bytes() == 8 * 1024 * 1024
    clean_env.setenv("WORKBENCH_MAX_BODY_MB", "32MB")
    with pytest.raises(SettingsError, match="WORKBENCH_MAX_BODY_MB"):
        max_body_bytes()


def test_error_never_shows_a_secret_value(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("WORKBENCH_SMTP_PASSWORD", "hunter2")
    clean_env.setenv("WORKBENCH_LOCK_TIMEOUT", "soon")
    with pytest.raises(SettingsError) as caught:
        settings()
    assert "hunter2" not in str(caught.value.to_dict())
    assert "'soon'" in caught.value.message


def test_limit_fields_are_every_tier_and_metric_of_the_plans() -> None:
    from workbench.governance.plans import METRICS, TIERS

    limits = {n for n in Settings.model_fields if n.startswith("limit_")}
    assert limits == {f"limit_{t}_{m}" for t in TIERS for m in METRICS}


def test_readme_configuration_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = config.markdown_table()
    assert table in readme, "README is stale: paste `workbench config --markdown` into it"
    for var, name in VARS.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{var}` |"))
        assert config.type_name(name) in row
        assert Settings.model_fields[name].json_schema_extra["shown"] in row  # type: ignore[index]
    for var in READ_BY_OTHERS:
        assert f"| `{var}` | read by others |" in table


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts)


def test_every_workbench_variable_named_in_the_code_is_a_setting() -> None:
    """Every WORKBENCH_*/SUPABASE_* string in workbench/ (code, docstrings, help texts) is
    a field, a variable read by others, or a prefix of fields (``WORKBENCH_SMTP_``)."""
    known = set(VARS) | set(READ_BY_OTHERS)
    stray = {}
    for path in _sources():
        for match in re.finditer(r"\b(?:WORKBENCH|SUPABASE)_[A-Z0-9_]*",
                                 path.read_text(encoding="utf-8")):
            word = match.group(0)
            if word in known or (word.endswith("_") and any(v.startswith(word) for v in known)):
                continue
            stray[word] = str(path.relative_to(ROOT))
    assert not stray, f"variables that are not settings: {stray}"


# Modules that touch os.environ for someone else: the variable is passed on, not read.
PASSES_ENVIRONMENT_ON = {
    "workbench/app/server.py",  # --server-mode sets WORKBENCH_SERVER_MODE for lower layers
    "workbench/paper/runner.py",  # WORKBENCH_LOCK_TIMEOUT for the notebook's kernel
    "workbench/paper/warm.py",  # the warm kernel's environment (and its lock timeout)
    "workbench/paper/unitfiles.py",  # the environment written into cron/systemd units
    "workbench/data/appends.py",  # the compaction process inherits the environment
}


def test_no_module_reads_workbench_variables_from_os_environ() -> None:
    """Only workbench/config.py reads the environment (plus XDG_CACHE_HOME and
    NUMBA_CACHE_DIR, which are not the project's)."""
    stray = []
    for path in _sources():
        rel = str(path.relative_to(ROOT))
        if rel == "workbench/config.py" or rel in PASSES_ENVIRONMENT_ON:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_environ = (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
                          and isinstance(node.value, ast.Name) and node.value.id == "os")
            if not is_environ:
                continue
            line = ast.get_source_segment(path.read_text(encoding="utf-8"), node) or ""
            source_line = path.read_text(encoding="utf-8").splitlines()[node.lineno - 1]
            if not any(var in source_line for var in READ_BY_OTHERS):
                stray.append(f"{rel}:{node.lineno}: {source_line.strip()} ({line})")
    assert not stray, "read the setting with workbench.config.settings():\n" + "\n".join(stray)


def test_config_command_masks_secrets_and_prints_the_readme_table(
        clean_env: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    clean_env.setenv("WORKBENCH_SMTP_PASSWORD", "hunter2")
    clean_env.setenv("WORKBENCH_DATABASE_URL", "postgresql://u:pw-123@db:5432/x")
    clean_env.setenv("WORKBENCH_SMTP_PORT", "2525")
    shown = runner.invoke(app, ["config"])
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["variable", "value", "set", "default"]
    assert "hunter2" not in shown.stdout and "pw-123" not in shown.stdout
    port = next(line for line in lines if line.startswith("WORKBENCH_SMTP_PORT "))
    assert port.split() == ["WORKBENCH_SMTP_PORT", "2525", "yes", "25"]
    assert len(lines) == 2 + len(Settings.model_fields)

    rows = {r["variable"]: r for r in json.loads(runner.invoke(app, ["config", "--json"]).stdout)}
    assert set(rows) == set(VARS)
    assert rows["WORKBENCH_SMTP_PASSWORD"]["value"] == "****" and rows["WORKBENCH_SMTP_PASSWORD"]["set"]
    assert rows["WORKBENCH_SMTP_PORT"]["value"] == 2525
    assert rows["WORKBENCH_STORE"] == {"variable": "WORKBENCH_STORE", "value": "local",
                                       "set": False, "default": "local"}

    markdown = runner.invoke(app, ["config", "--markdown"])
    assert markdown.stdout == config.markdown_table()

    clean_env.setenv("WORKBENCH_SERVER_MODE", "maybe")
    bad = runner.invoke(app, ["config", "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stderr)["error"]["details"]["variable"] == "WORKBENCH_SERVER_MODE"
