"""``workbench db ...``, ``workbench strategies ...`` and ``workbench keys ...``.

Commands act as the store's current user (:meth:`Store.current_user`: the local profile
by default). Heavy imports stay inside the commands so ``workbench --help`` is fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from workbench.cli._tables import print_table
from workbench.cli.common import JSON_OPT, echo_json, handle_errors
from workbench.cli.common import open_store as _store

URL_OPT = typer.Option(None, "--url", help="postgresql://... (default: $WORKBENCH_DATABASE_URL).")

db_app = typer.Typer(help="Supabase/PostgreSQL schema: migrate, status, export-migrations.",
                     no_args_is_help=True)
strategies_app = typer.Typer(help="Strategies and their immutable versions.",
                             no_args_is_help=True)
keys_app = typer.Typer(help="Exchange API keys (encrypted at rest; listed by hint only).",
                       no_args_is_help=True)


def _url(url: str | None) -> str:
    from workbench.config import settings
    from workbench.errors import ValidationError

    url = url or settings().database_url
    if not url:
        raise ValidationError("No database: pass --url postgresql://user:pass@host:5432/db or "
                              "set WORKBENCH_DATABASE_URL.", details={"option": "--url"})
    return url


# -- db -------------------------------------------------------------------------------
@db_app.command("migrate")
@handle_errors
def db_migrate(url: str = URL_OPT, as_json: bool = JSON_OPT) -> None:
    """Apply pending migrations (idempotent: a second run applies nothing)."""
    from workbench.records.migrate import migrate

    applied = migrate(_url(url))
    if as_json:
        echo_json({"applied": applied})
    else:
        typer.echo("\n".join(f"applied {name}" for name in applied) or "up to date")


@db_app.command("status")
@handle_errors
def db_status(url: str = URL_OPT, as_json: bool = JSON_OPT) -> None:
    """Each shipped migration and when it was applied (``pending`` if not yet)."""
    from workbench.records.migrate import status

    rows = status(_url(url))
    if as_json:
        echo_json(rows)
        return
    print_table(["migration", "applied", "note"],
                [(f"{r['version']}_{r['name']}",
                  r["applied_at"].isoformat() if r["applied_at"] else "pending",
                  "file changed since applied" if r["changed_since_applied"] else "")
                 for r in rows])


@db_app.command("export-migrations")
@handle_errors
def db_export(folder: Path = typer.Argument(..., help="Project folder; files go to "
                                            "<folder>/supabase/migrations/."),
              as_json: bool = JSON_OPT) -> None:
    """Write the migrations in the Supabase CLI layout (then: ``supabase db push``)."""
    from workbench.records.migrate import export_migrations

    files = export_migrations(folder)
    if as_json:
        echo_json([str(f) for f in files])
    else:
        typer.echo("\n".join(str(f) for f in files))


# -- strategies -----------------------------------------------------------------------
def _strategy_line(s: Any) -> str:
    tags = f" [{', '.join(s.tags)}]" if s.tags else ""
    return f"{s.slug:<28} {s.status:<8} {s.visibility:<8} {s.id}{tags}"


def _read_graph(path: Path) -> dict[str, Any]:
    from workbench.errors import ValidationError

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"No such file: {path}", details={"path": str(path)}) from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path} is not JSON: {exc}", details={"path": str(path)}) from None
    if not isinstance(doc, dict):
        raise ValidationError(f"{path} must hold a JSON object (a *.strategy.json document).",
                              details={"path": str(path)})
    from workbench.api import validate

    for problem in validate(doc):  # versions may be drafts: say what is wrong, save anyway
        typer.echo(f"warning: {problem}", err=True)
    return doc


@strategies_app.command("list")
@handle_errors
def strategies_list(status: str = typer.Option(None, help="draft, active or archived."),
                    tag: str = typer.Option(None, help="Only strategies with this tag."),
                    as_json: bool = JSON_OPT) -> None:
    """Your strategies, most recently changed first."""
    with _store() as store:
        rows = store.strategies.list(owner_id=store.current_user().id, status=status, tag=tag)
    if as_json:
        echo_json(rows)
        return
    print_table(["slug", "status", "visibility", "id", "tags"],
                [(s.slug, s.status, s.visibility, s.id, ", ".join(s.tags)) for s in rows],
                empty="no strategies yet: workbench strategies create NAME [--from FILE]")


@strategies_app.command("create")
@handle_errors
def strategies_create(name: str = typer.Argument(..., help="Display name (the slug comes from it)."),
                      slug: str = typer.Option(None, help="URL-safe id, unique among yours."),
                      description: str = typer.Option("", help="One line about it."),
                      tag: list[str] = typer.Option([], "--tag", help="Repeat for several."),
                      from_file: Path = typer.Option(None, "--from",
                                                     help="A *.strategy.json saved as version 1."),
                      as_json: bool = JSON_OPT) -> None:
    """Create a strategy (draft), optionally with version 1 from a strategy file."""
    graph = _read_graph(from_file) if from_file else None
    with _store() as store:
        me = store.current_user()
        with store.transaction():
            s = store.strategies.create(me.id, name, slug=slug, description=description,
                                        tags=tag)
            v = store.versions.save(s.id, graph, notes="created", actor=me) if graph else None
    if as_json:
        echo_json({"strategy": s, "version": v})
    else:
        typer.echo(_strategy_line(s) + (f"  v{v.version}" if v else ""))


@strategies_app.command("show")
@handle_errors
def strategies_show(ref: str = typer.Argument(..., help="Slug or id."),
                    as_json: bool = JSON_OPT) -> None:
    """One strategy with its latest version number."""
    with _store() as store:
        me = store.current_user()
        s = store.strategies.resolve(ref, me.id)
        store.strategies.get(s.id, actor=me)
        versions = store.versions.list(s.id)
    if as_json:
        echo_json({"strategy": s, "latest_version": versions[0] if versions else None,
                   "versions": len(versions)})
        return
    typer.echo(_strategy_line(s))
    if s.description:
        typer.echo(s.description)
    typer.echo(f"versions: {len(versions)}" + (f" (latest v{versions[0].version}, "
                                                f"{versions[0].created_at:%Y-%m-%d %H:%M} UTC)"
                                                if versions else ""))


@strategies_app.command("versions")
@handle_errors
def strategies_versions(ref: str = typer.Argument(..., help="Slug or id."),
                        as_json: bool = JSON_OPT) -> None:
    """Every version, newest first."""
    with _store() as store:
        me = store.current_user()
        s = store.strategies.resolve(ref, me.id)
        versions = store.versions.list(s.id, actor=me)
    if as_json:
        echo_json(versions)
        return
    print_table(["version", "created (UTC)", "notes"],
                [(f"v{v.version}", f"{v.created_at:%Y-%m-%d %H:%M}", v.notes) for v in versions])


@strategies_app.command("save-version")
@handle_errors
def strategies_save_version(ref: str = typer.Argument(..., help="Slug or id."),
                            file: Path = typer.Argument(..., help="A *.strategy.json document."),
                            notes: str = typer.Option("", help="What changed."),
                            as_json: bool = JSON_OPT) -> None:
    """Save a strategy file as the next immutable version."""
    graph = _read_graph(file)
    with _store() as store:
        me = store.current_user()
        s = store.strategies.resolve(ref, me.id)
        v = store.versions.save(s.id, graph, notes=notes, actor=me)
    if as_json:
        echo_json(v)
    else:
        typer.echo(f"{s.slug} v{v.version} saved")


@strategies_app.command("archive")
@handle_errors
def strategies_archive(ref: str = typer.Argument(..., help="Slug or id."),
                       as_json: bool = JSON_OPT) -> None:
    """Archive a strategy (its versions and runs stay)."""
    with _store() as store:
        me = store.current_user()
        s = store.strategies.archive(store.strategies.resolve(ref, me.id).id, actor=me)
    if as_json:
        echo_json(s)
    else:
        typer.echo(f"{s.slug} archived")


# -- keys -----------------------------------------------------------------------------
@keys_app.command("add")
@handle_errors
def keys_add(exchange: str = typer.Argument(..., help="binance, kraken, coinbase..."),
             api_key: str = typer.Option(None, "--api-key", help="Prompted (hidden) if omitted."),
             secret: str = typer.Option(None, "--secret", help="Prompted (hidden) if omitted; "
                                        "or set WORKBENCH_KEY_SECRET."),
             passphrase: str = typer.Option(None, help="Only for exchanges that use one."),
             label: str = typer.Option("", help="A name to tell keys apart."),
             as_json: bool = JSON_OPT) -> None:
    """Store an exchange API key, encrypted; only its hint is shown afterwards."""
    from workbench.config import settings
    from workbench.records.keys import KeyVault

    api_key = api_key or typer.prompt("API key", hide_input=True)
    secret = secret or settings().key_secret or typer.prompt(
        "API secret", hide_input=True)
    with _store() as store:
        key = KeyVault(store).add(store.current_user().id, exchange, api_key, secret,
                                  passphrase=passphrase, label=label)
    out = {"id": key.id, "exchange": key.exchange, "label": key.label, "hint": key.hint}
    if as_json:
        echo_json(out)
    else:
        typer.echo(f"{key.exchange} {key.hint} stored as {key.id}")


@keys_app.command("list")
@handle_errors
def keys_list(as_json: bool = JSON_OPT) -> None:
    """Your keys by hint (the secrets are never shown)."""
    from workbench.records.keys import KeyVault

    with _store() as store:
        rows = KeyVault(store).list(store.current_user().id)
    if as_json:
        echo_json(rows)
        return
    print_table(["id", "exchange", "hint", "label", "last used (UTC)"],
                [(r["id"], r["exchange"], r["hint"], r["label"],
                  f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "never")
                 for r in rows], empty="no keys: workbench keys add EXCHANGE")


@keys_app.command("remove")
@handle_errors
def keys_remove(key_id: str = typer.Argument(..., help="The id from `workbench keys list`."),
                as_json: bool = JSON_OPT) -> None:
    """Delete a key (the access log keeps the removal)."""
    from workbench.records.keys import KeyVault

    with _store() as store:
        KeyVault(store).remove(key_id, actor=store.current_user())
    if as_json:
        echo_json({"removed": key_id})
    else:
        typer.echo(f"removed {key_id}")


def register(root: typer.Typer) -> None:
    """Add ``db``, ``strategies`` and ``keys`` to the root command."""
    root.add_typer(db_app, name="db")
    root.add_typer(strategies_app, name="strategies")
    root.add_typer(keys_app, name="keys")
