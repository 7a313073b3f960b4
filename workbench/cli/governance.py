"""CLI: ``workbench templates|compliance|notifications|accounts ...`` and ``workbench usage``.

Commands act as the store's current user (``Store.current_user()``: ``$WORKBENCH_USER_ID``
or the local profile) unless ``--as`` names another profile by id or e-mail. Heavy imports stay inside the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from workbench.cli._tables import print_table
from workbench.cli.common import EXIT_PROBLEMS, JSON_OPT, echo_json, handle_errors
from workbench.cli.common import open_store as _open

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import Profile

templates_app = typer.Typer(help="Share strategy versions as templates; list and clone them.",
                            no_args_is_help=True)
compliance_app = typer.Typer(help="Review queue, decisions and the audit hash chain.",
                             no_args_is_help=True)
notifications_app = typer.Typer(help="The notification center: list and mark read.",
                                no_args_is_help=True)
accounts_app = typer.Typer(help="Account status (admins): suspend a user (every token of "
                                "theirs refused at once) or activate them again.",
                           no_args_is_help=True)

AS_OPT = typer.Option(None, "--as", help="Act as this profile (id or e-mail); default: "
                                          "$WORKBENCH_USER_ID or the local user.")


def _who(store: Store, who: str | None) -> Profile:
    from workbench.errors import NotFoundError

    if not who:
        return store.current_user()
    if "@" in who:
        found = store.profiles.get_by_email(who)
        if found is None:
            raise NotFoundError(f"No profile with e-mail {who!r}.", details={"email": who})
        return found
    return store.profiles.get(who)


# -- templates ------------------------------------------------------------------------
@templates_app.command("publish")
@handle_errors
def templates_publish(
    strategy: str = typer.Argument(..., help="Strategy id or slug (yours)."),
    version: int = typer.Option(None, "--version", "-v", help="Version number (default latest)."),
    audience: str = typer.Option("public", help="public or cohort."),
    cohort: str = typer.Option(None, "--cohort", help="Cohort id (audience cohort)."),
    title: str = typer.Option("", help="Title (default: the strategy's name)."),
    description: str = typer.Option("", help="What students learn from it."),
    tag: list[str] = typer.Option([], "--tag", help="Tag (repeatable)."),
    disclaimer: list[str] = typer.Option([], "--disclaimer", help="Required disclaimer "
                                                                  "(repeatable, at least one)."),
    notebook: str = typer.Option(None, "--notebook", help="Template notebook path."),
    who: str = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Submit a strategy version as a template; it is published once a reviewer approves."""
    from workbench.governance import templates

    with _open() as store:
        me = _who(store, who)
        strat = store.strategies.resolve(strategy, me.id)
        ver = store.versions.get_version(strat.id, version)
        sub = templates.submit(store, me, ver.id, audience=audience, cohort_id=cohort,
                               title=title, description=description, tags=tag,
                               disclaimers=disclaimer, notebook_path=notebook)
        if as_json:
            echo_json(sub.model_dump())
        else:
            typer.echo(f"template {sub.template.id} submitted ({sub.template.status}); "
                       f"disclosure review {sub.review.id} is waiting for an admin.")


@templates_app.command("list")
@handle_errors
def templates_list(mine: bool = typer.Option(False, "--mine", help="Only my own, any status."),
                   who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Templates you can see (public ones, your cohorts' ones, your own)."""
    from workbench.governance import templates

    with _open() as store:
        rows = templates.visible_templates(store, _who(store, who), mine=mine)
        if as_json:
            echo_json(rows)
            return
        print_table(["id", "status", "audience", ">clones", "title"],
                    [(t.id, t.status, t.audience + (f":{t.cohort_id}" if t.cohort_id else ""),
                      t.clone_count, t.title) for t in rows], empty="no templates")


@templates_app.command("clone")
@handle_errors
def templates_clone(template_id: str, name: str = typer.Option(None, help="New strategy name."),
                    who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Clone a template into a new strategy of yours (attribution kept)."""
    from workbench.governance import templates

    with _open() as store:
        c = templates.clone(store, template_id, _who(store, who), name=name)
        if as_json:
            echo_json(c.model_dump())
        else:
            typer.echo(f"cloned into strategy {c.strategy.slug} ({c.strategy.id}); "
                       f"by {c.attribution['educator_name'] or c.attribution['educator_id']}")
            for d in c.attribution["disclaimers"]:
                typer.echo(f"  disclaimer: {d}")


# -- compliance -----------------------------------------------------------------------
@compliance_app.command("queue")
@handle_errors
def compliance_queue(who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Open and escalated review items (admins)."""
    from workbench.governance import compliance

    with _open() as store:
        rows = compliance.queue(store, _who(store, who))
        if as_json:
            echo_json(rows)
            return
        print_table(["id", "type", "status", "subject", "created (UTC)"],
                    [(e.id, e.event_type, e.status, f"{e.subject_type} {e.subject_id}",
                      f"{e.created_at:%Y-%m-%d %H:%M}") for e in rows], empty="queue is empty")


@compliance_app.command("review")
@handle_errors
def compliance_review(event_id: str,
                      decision: str = typer.Argument(..., help="approve, reject or escalate"),
                      reason: str = typer.Option(..., "--reason", help="Why (audited)."),
                      who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Decide a review item (admins); approving a disclosure publishes its template."""
    from workbench.governance import compliance

    with _open() as store:
        event = compliance.review(store, _who(store, who), event_id, decision, reason)
        if as_json:
            echo_json(event)
        else:
            typer.echo(f"{event.id} {event.status}")


@compliance_app.command("takedown")
@handle_errors
def compliance_takedown(template_id: str,
                        reason: str = typer.Option(..., "--reason", help="Why (audited)."),
                        who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Hide a template at once (admins)."""
    from workbench.governance import compliance

    with _open() as store:
        tpl = compliance.takedown(store, _who(store, who), template_id, reason)
        if as_json:
            echo_json(tpl)
        else:
            typer.echo(f"template {tpl.id} {tpl.status}")


@compliance_app.command("verify")
@handle_errors
def compliance_verify(as_json: bool = JSON_OPT) -> None:
    """Check the audit hash chain; exit 1 naming the first broken link."""
    from workbench.governance import audit

    with _open() as store:
        report = audit.verify_store(store)
    if as_json:
        echo_json(report.to_dict())
    elif report.ok:
        typer.echo(f"audit chain intact: {report.checked} events, head {report.head_hash}")
    else:
        typer.echo(report.broken.message if report.broken else "audit chain broken", err=True)
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEMS)


# -- notifications --------------------------------------------------------------------
@notifications_app.command("list")
@handle_errors
def notifications_list(unread: bool = typer.Option(False, "--unread", help="Only unread."),
                       limit: int = typer.Option(50, help="At most this many."),
                       who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Your in-app notifications, newest first, with the unread count."""
    from workbench.governance import notifications

    with _open() as store:
        me = _who(store, who)
        rows = notifications.inbox(store, me.id, unread_only=unread, limit=limit)
        count = notifications.unread_count(store, me.id)
        if as_json:
            echo_json({"unread": count, "notifications": rows})
            return
        typer.echo(f"{count} unread")
        print_table(["new", "id", "created (UTC)", "type", "title"],
                    [("" if n.read_at else "*", n.id, f"{n.created_at:%Y-%m-%d %H:%M}", n.type,
                      n.title) for n in rows])


@notifications_app.command("read")
@handle_errors
def notifications_read(notification_id: str = typer.Argument(None, help="Id (omit with --all)."),
                       all_: bool = typer.Option(False, "--all", help="Mark all as read."),
                       who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Mark one notification, or all of them, as read."""
    from workbench.errors import ValidationError
    from workbench.governance import notifications

    if not notification_id and not all_:
        raise ValidationError("Give a notification id, or --all.", details={})
    with _open() as store:
        me = _who(store, who)
        n = notifications.mark_read(store, me.id, None if all_ else notification_id)
        left = notifications.unread_count(store, me.id)
    if as_json:
        echo_json({"marked": n, "unread": left})
    else:
        typer.echo(f"marked {n} read; {left} unread")


@notifications_app.command("settings")
@handle_errors
def notifications_settings(
    webhook_url: str = typer.Option(None, help="POST signed JSON here (http/https)."),
    webhook_secret: str = typer.Option(None, help="HMAC-SHA256 key for the signature header."),
    email: str = typer.Option(None, help="E-mail address ('profile' = the profile's)."),
    channel: list[str] = typer.Option([], "--channel", help="Enabled channel (repeatable): "
                                                            "in_app, webhook, email."),
    who: str = AS_OPT, as_json: bool = JSON_OPT,
) -> None:
    """Show or change where your notifications go (kept on your profile in the store; the
    webhook secret encrypted with the key vault's key)."""
    from workbench.governance import notifications

    with _open() as store:
        me = _who(store, who)
        current = notifications.update_settings(
            store, me.id, webhook_url=webhook_url, webhook_secret=webhook_secret, email=email,
            channels=channel or None)
    shown = {"webhook_url": current.webhook_url,
             "webhook_secret": "set" if current.webhook_secret else None,
             "email": current.email, "channels": current.enabled()}
    if as_json:
        echo_json(shown)
    else:
        print_table(["setting", "value"], shown.items())


# -- usage ----------------------------------------------------------------------------
def usage(who: str = AS_OPT, as_json: bool = JSON_OPT) -> None:
    """Today's plan usage and remaining quota (resets 00:00 UTC)."""
    from workbench.governance import quotas

    with _open() as store:
        me = _who(store, who)
        rows = quotas.usage(store, me.id)
    if as_json:
        echo_json({"plan_tier": me.plan_tier, "usage": [u.to_dict() for u in rows]})
        return
    typer.echo(f"plan: {me.plan_tier}   (resets {rows[0].reset_at:%Y-%m-%d %H:%M} UTC)")
    print_table(["metric", ">used / limit", ">left"],
                [(u.metric, f"{u.used} / {'unlimited' if u.limit == -1 else u.limit}",
                  u.remaining) for u in rows])
    if any(u.remaining == 0 for u in rows):
        typer.echo(rows[0].upgrade_hint)


def register(root: typer.Typer) -> None:
    """Add ``templates``, ``compliance``, ``notifications`` and ``usage`` to ``root``."""
    root.add_typer(templates_app, name="templates")
    root.add_typer(compliance_app, name="compliance")
    root.add_typer(notifications_app, name="notifications")
    root.add_typer(accounts_app, name="accounts")
    root.command("usage")(handle_errors(usage))
    root.add_typer(billing_app, name="billing")


billing_app = typer.Typer(help="Billing (Stripe): apply lapses due at the period end.",
                          no_args_is_help=True)


@billing_app.command("settle")
@handle_errors
def billing_settle(as_json: bool = JSON_OPT) -> None:
    """Drop every profile whose paid period ended without renewal to the free plan
    (audited, notified). Run it from cron or a systemd timer; quotas also settle a
    profile when they read it."""
    from workbench.governance import billing

    with _open() as store:
        done = billing.settle_due(store)
    if as_json:
        echo_json({"settled": done})
        return
    if not done:
        typer.echo("nothing due")
        return
    print_table(["profile", "from", "to", "status"],
                [(d["profile_id"], d["from"], d["to"], d["status"]) for d in done])


# -- accounts ---------------------------------------------------------------------------
def _set_status(user: str, status: str, reason: str, who: str | None, as_json: bool) -> None:
    from workbench.governance import accounts

    with _open() as store:
        done = accounts.set_status(store, _who(store, who), user, status, reason=reason)
    if as_json:
        echo_json(done)
        return
    state = done["status"] if done["changed"] else f"already {done['status']}"
    typer.echo(f"{done['email'] or done['id']} {state} (token version {done['token_version']})")


USER_ARG = typer.Argument(..., help="The user: profile id or e-mail.")
REASON_OPT = typer.Option("", "--reason", help="Why (audited).")


@accounts_app.command("suspend")
@handle_errors
def accounts_suspend(user: str = USER_ARG, reason: str = REASON_OPT, who: str = AS_OPT,
                     as_json: bool = JSON_OPT) -> None:
    """Suspend a user (admins): every personal token and access token of theirs is
    refused at once (401 suspended); they cannot create tokens or write records."""
    _set_status(user, "suspended", reason, who, as_json)


@accounts_app.command("activate")
@handle_errors
def accounts_activate(user: str = USER_ARG, reason: str = REASON_OPT, who: str = AS_OPT,
                      as_json: bool = JSON_OPT) -> None:
    """Make a suspended user active again (admins); their old tokens stay revoked."""
    _set_status(user, "active", reason, who, as_json)
