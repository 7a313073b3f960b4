"""``workbench tokens ...``: personal API tokens for the HTTP API, and sign-out.

Commands act as the store's current user (:meth:`Store.current_user`), like ``workbench
keys``. A token is printed once, when it is made; afterwards only its hint is shown.
"""

from __future__ import annotations

import typer

from workbench.cli._tables import print_table
from workbench.cli.common import JSON_OPT, echo_json, handle_errors
from workbench.cli.common import open_store as _store

tokens_app = typer.Typer(help="Personal API tokens (Authorization: Bearer wbt_…): create, "
                              "list, revoke; sign out everywhere.", no_args_is_help=True)


@tokens_app.command("create")
@handle_errors
def tokens_create(name: str = typer.Argument(..., help="A name to tell tokens apart, e.g. ci."),
                  days: float = typer.Option(90.0, "--days", help="Lifetime in days (max 366)."),
                  as_json: bool = JSON_OPT) -> None:
    """Make a token; it is shown this once (the store keeps only its hash)."""
    from workbench.records.tokens import create_token

    with _store() as store:
        made = create_token(store, store.current_user().id, name, days=days)
    if as_json:
        echo_json(made.to_dict())
        return
    typer.echo(made.secret)
    typer.echo(f"token {made.token.name!r} ({made.token.id}) expires "
               f"{made.token.expires_at:%Y-%m-%d %H:%M} UTC; copy it now: it is not shown "
               "again.", err=True)


@tokens_app.command("list")
@handle_errors
def tokens_list(as_json: bool = JSON_OPT) -> None:
    """Your tokens by hint, with their status (active, revoked, expired, signed_out)."""
    from workbench.records.tokens import list_tokens

    with _store() as store:
        rows = list_tokens(store, store.current_user().id)
    if as_json:
        echo_json(rows)
        return
    print_table(["id", "name", "hint", "status", "expires (UTC)", "last used (UTC)"],
                [(r["id"], r["name"], r["hint"], r["status"], f"{r['expires_at']:%Y-%m-%d}",
                  f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "never")
                 for r in rows], empty="no tokens: workbench tokens create NAME")


@tokens_app.command("revoke")
@handle_errors
def tokens_revoke(token_id: str = typer.Argument(..., help="The id from `workbench tokens list`."),
                  as_json: bool = JSON_OPT) -> None:
    """Revoke a token; it stops working at once."""
    from workbench.records.tokens import revoke_token

    with _store() as store:
        row = revoke_token(store, token_id, actor=store.current_user())
    if as_json:
        echo_json(row)
    else:
        typer.echo(f"revoked {row['name']} ({row['hint']})")


@tokens_app.command("sign-out-everywhere")
@handle_errors
def tokens_sign_out_everywhere(as_json: bool = JSON_OPT) -> None:
    """Revoke every token and every access token (JWT) issued to you so far."""
    from workbench.records.tokens import sign_out_everywhere

    with _store() as store:
        out = sign_out_everywhere(store, store.current_user().id)
    if as_json:
        echo_json(out)
    else:
        typer.echo(f"signed out everywhere (token version {out['token_version']})")


def register(root: typer.Typer) -> None:
    """Add ``tokens`` to the root command."""
    root.add_typer(tokens_app, name="tokens")
