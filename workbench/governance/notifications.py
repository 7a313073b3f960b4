"""The notification service: in-app records plus webhook and e-mail delivery.

:func:`notify` stores an in-app notification (the notification center's unread count and
list read these) and delivers the same message on the user's other channels: a signed
webhook (:mod:`~workbench.governance.webhook`) and e-mail over SMTP
(:mod:`~workbench.governance.mail`). Each external channel gets its own notification
row whose ``delivery_status``, ``attempts`` and ``last_error`` record what happened.
Nothing here raises into the backtest or paper-trade tick that called it: failures are
recorded and logged.

Per-user channel settings live in the store, on the profile's ``notification_settings``
(so scheduled runs on another machine see them), with the webhook secret encrypted by
the key vault's Fernet key (:func:`workbench.records.keys.secret_key`). Older set-ups
kept them in ``$WORKBENCH_HOME/notifications.json`` (mode 0600)::

    {"<user id>": {"webhook_url": "https://...", "webhook_secret": "...",
                   "email": "ada@example.org", "channels": ["in_app", "webhook"]},
     "*": {...defaults for every user...}}

That file is still read: its user entry applies while the profile has no stored
settings, and its ``"*"`` entry stays the default for everyone.
``WORKBENCH_WEBHOOK_URL`` / ``WORKBENCH_WEBHOOK_SECRET`` are the defaults when no
entry sets them. Without explicit ``channels`` a user gets in-app, plus webhook when a
URL is set, plus e-mail when an address is set (``email: true`` uses the profile's).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.config import settings
from workbench.errors import ValidationError
from workbench.governance.mail import send_email
from workbench.governance.webhook import Delivery, deliver_webhook

if TYPE_CHECKING:
    from workbench.records import Store
    from workbench.records.models import Notification

log = logging.getLogger(__name__)

TYPES: tuple[str, ...] = ("backtest_complete", "paper_trade_alert", "governance_task", "system")
CHANNELS: tuple[str, ...] = ("in_app", "webhook", "email")


@dataclass
class ChannelSettings:
    """Where one user's notifications go."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    email: str | bool | None = None
    channels: list[str] | None = None
    webhook_retries: int = 3
    webhook_base_delay_s: float = 0.5

    def enabled(self) -> list[str]:
        if self.channels is not None:
            return list(self.channels)
        out = ["in_app"]
        if self.webhook_url:
            out.append("webhook")
        if self.email:
            out.append("email")
        return out


@dataclass
class NotifyResult:
    """The in-app row (if stored) and every external delivery's outcome."""

    in_app: Notification | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"in_app_id": str(self.in_app.id) if self.in_app else None,
                "deliveries": [d.to_dict() for d in self.deliveries], "errors": self.errors}


def settings_file() -> Path:
    from workbench.config import home

    return home() / "notifications.json"


def _read_settings_file() -> dict[str, Any]:
    path = settings_file()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}.",
                              details={"path": str(path)}) from None
    return data if isinstance(data, dict) else {}


def _fernet() -> Any:
    from cryptography.fernet import Fernet

    from workbench.records.keys import secret_key

    return Fernet(secret_key())


def _stored_settings(store: Store, user_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The profile's stored settings with the webhook secret decrypted (None: none)."""
    profile = store.profiles.find(user_id)
    raw = profile.notification_settings if profile is not None else None
    if raw is None:
        return None
    out = {k: v for k, v in raw.items() if k in ChannelSettings.__dataclass_fields__}
    token = raw.get("webhook_secret_enc")
    if token:
        from cryptography.fernet import InvalidToken

        try:
            out["webhook_secret"] = _fernet().decrypt(str(token).encode()).decode()
        except InvalidToken:
            raise ValidationError(
                f"The stored webhook secret of user {user_id} cannot be decrypted with this "
                f"secret key (WORKBENCH_SECRET_KEY or $WORKBENCH_HOME/secret.key changed); "
                f"set it again with `workbench notifications settings --webhook-secret`.",
                details={"user_id": str(user_id)}) from None
    return out


def load_settings(user_id: uuid.UUID | str, store: Store | None = None) -> ChannelSettings:
    """The channel settings of ``user_id``.

    Precedence: the profile's stored settings (when ``store`` is given and it has
    any), else the user's entry in the old ``notifications.json``; both over that
    file's ``"*"`` entry, over the environment.
    """
    data = _read_settings_file()
    env = settings()
    merged: dict[str, Any] = {"webhook_url": env.webhook_url,
                              "webhook_secret": env.webhook_secret}
    stored = _stored_settings(store, user_id) if store is not None else None
    entries: list[Any] = [data.get("*"), stored if stored is not None else data.get(str(user_id))]
    for entry in entries:
        if isinstance(entry, dict):
            merged.update({k: v for k, v in entry.items()
                           if k in ChannelSettings.__dataclass_fields__})
    return ChannelSettings(**merged)


def save_settings_to_store(store: Store, user_id: uuid.UUID | str,
                           settings: ChannelSettings) -> dict[str, Any]:
    """Keep ``settings`` on the profile of ``user_id``; the webhook secret is stored only
    Fernet-encrypted (``webhook_secret_enc``). Returns the stored JSON."""
    row: dict[str, Any] = {k: v for k, v in asdict(settings).items()
                           if v is not None and k != "webhook_secret"}
    if settings.webhook_secret:
        row["webhook_secret_enc"] = _fernet().encrypt(settings.webhook_secret.encode()).decode()
    store.profiles.update(user_id, notification_settings=row)
    return row


def update_settings(store: Store, user_id: uuid.UUID | str, *,
                    webhook_url: str | None = None, webhook_secret: str | None = None,
                    email: str | None = None,
                    channels: Sequence[str] | None = None) -> ChannelSettings:
    """Change the stored settings of ``user_id`` (None leaves a field as it is, ``""``
    clears it; ``email="profile"`` means the profile's address) and keep them on the
    profile. What the CLI's ``notifications settings`` and the app's settings panel do."""
    current = load_settings(user_id, store)
    if webhook_url is not None:
        url = webhook_url.strip()
        if url and not url.startswith(("http://", "https://")):
            raise ValidationError(f"The webhook URL must start with http:// or https://, got "
                                  f"{url!r}.", details={"webhook_url": url})
        current.webhook_url = url or None
    if webhook_secret is not None:
        current.webhook_secret = webhook_secret or None
    if email is not None:
        address = email.strip()
        if address and address != "profile" and "@" not in address:
            raise ValidationError(f"{address!r} is not an e-mail address.",
                                  details={"email": address})
        current.email = True if address == "profile" else (address or None)
    if channels is not None:
        bad = sorted(set(channels) - set(CHANNELS))
        if bad:
            raise ValidationError(f"Unknown channel(s) {bad}; use in_app, webhook, email.",
                                  details={"channels": bad})
        current.channels = list(dict.fromkeys(["in_app", *channels]))
    if any(v is not None for v in (webhook_url, webhook_secret, email, channels)):
        save_settings_to_store(store, user_id, current)  # showing the settings writes nothing
    return current


def describe(settings: ChannelSettings) -> dict[str, Any]:
    """The settings as a UI may show them: the secret only as set / not set."""
    from workbench.governance.mail import SmtpSettings

    return {"webhook_url": settings.webhook_url, "webhook_secret_set":
            bool(settings.webhook_secret), "email": settings.email,
            "channels": settings.enabled(), "smtp_configured": SmtpSettings.from_env()
            is not None}


def save_settings(user_id: uuid.UUID | str, settings: ChannelSettings) -> Path:
    """Write ``settings`` for ``user_id`` to the old ``notifications.json`` (readable by
    its owner only). Kept for set-ups without a store; the CLI uses
    :func:`save_settings_to_store`."""
    data = _read_settings_file()
    data[str(user_id)] = {k: v for k, v in asdict(settings).items() if v is not None}
    path = settings_file()
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
    return path


def notify(store: Store, user_id: uuid.UUID | str, type: str, title: str, body: str = "",
           payload: Mapping[str, Any] | None = None, *,
           channels: Sequence[str] | None = None,
           settings: ChannelSettings | None = None) -> NotifyResult:
    """Tell ``user_id`` something on their channels; never raises for delivery problems.

    Parameters
    ----------
    type : backtest_complete, paper_trade_alert, governance_task or system.
    payload : JSON-able references (run id, alert values); sent to webhooks as is.
    channels : override the user's enabled channels (a subset of in_app, webhook, email).
    settings : override the stored channel settings (tests, one-off sends).
    """
    if type not in TYPES:
        raise ValidationError(f"Unknown notification type {type!r}; use one of "
                              f"{', '.join(TYPES)}.", details={"type": type})
    bad = sorted(set(channels or ()) - set(CHANNELS))
    if bad:
        raise ValidationError(f"Unknown notification channel(s) {bad}; use "
                              f"{', '.join(CHANNELS)}.", details={"channels": bad})
    result = NotifyResult()
    data = {**dict(payload or {}), "body": body}
    try:
        settings = settings or load_settings(user_id, store)
    except Exception as exc:  # noqa: BLE001 - a broken settings file must not stop a run
        result.errors.append(f"settings: {exc}")
        settings = ChannelSettings()
    wanted = list(channels) if channels is not None else settings.enabled()
    if "in_app" in wanted:
        try:
            note = store.notifications.create(user_id, type, channel="in_app", title=title,
                                              payload=data)
            result.in_app = store.notifications.record_delivery(note.id, "delivered")
        except Exception as exc:  # noqa: BLE001
            log.warning("storing an in-app notification failed", exc_info=True)
            result.errors.append(f"in_app: {exc}")
    if "webhook" in wanted:
        _guard(result, "webhook", lambda: _send_webhook(store, user_id, type, title, data,
                                                        settings, result))
    if "email" in wanted:
        _guard(result, "email", lambda: _send_email(store, user_id, type, title, body,
                                                    settings, result))
    return result


def _guard(result: NotifyResult, channel: str, fn: Any) -> None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - never break the caller's run
        log.warning("%s delivery failed", channel, exc_info=True)
        result.errors.append(f"{channel}: {exc}")


def _send_webhook(store: Store, user_id: uuid.UUID | str, type: str, title: str,
                  data: dict[str, Any], settings: ChannelSettings, result: NotifyResult) -> None:
    note = store.notifications.create(user_id, type, channel="webhook", title=title,
                                      payload=data)
    if not settings.webhook_url or not settings.webhook_secret:
        store.notifications.record_delivery(
            note.id, "skipped", error="no webhook_url/webhook_secret configured")
        result.deliveries.append(Delivery(channel="webhook", status="skipped"))
        return

    def on_attempt(record: dict[str, Any], last: bool) -> None:
        ok = 200 <= int(record.get("status") or 0) < 300
        status = "delivered" if ok else ("failed" if last else "pending")
        error = None if ok else str(record.get("error") or f"HTTP {record.get('status')}")
        store.notifications.record_delivery(note.id, status, error=error)

    body = {"id": str(note.id), "type": type, "title": title, "user_id": str(user_id),
            "created_at": note.created_at.isoformat(), "payload": data}
    result.deliveries.append(deliver_webhook(
        settings.webhook_url, body, secret=settings.webhook_secret, event=type,
        retries=settings.webhook_retries, base_delay_s=settings.webhook_base_delay_s,
        on_attempt=on_attempt))


def _send_email(store: Store, user_id: uuid.UUID | str, type: str, title: str, body: str,
                settings: ChannelSettings, result: NotifyResult) -> None:
    note = store.notifications.create(user_id, type, channel="email", title=title,
                                      payload={"body": body})
    address = settings.email if isinstance(settings.email, str) else None
    if address is None:
        address = store.profiles.get(user_id).email
    if not address:
        store.notifications.record_delivery(note.id, "skipped", error="no e-mail address")
        result.deliveries.append(Delivery(channel="email", status="skipped"))
        return
    delivery = send_email(address, title, body or title, headers={"X-Workbench-Event": type})
    for i, attempt in enumerate(delivery.attempts):
        last = i == len(delivery.attempts) - 1
        status = delivery.status if last else "pending"
        store.notifications.record_delivery(note.id, status, error=attempt.get("error"))
    result.deliveries.append(delivery)


def inbox(store: Store, user_id: uuid.UUID | str, *, unread_only: bool = False,
          limit: int | None = 50) -> list[Notification]:
    """The notification center's list: in-app notifications, newest first."""
    return store.notifications.list(user_id, unread_only=unread_only, channel="in_app",
                                    limit=limit)


def unread_count(store: Store, user_id: uuid.UUID | str) -> int:
    return store.notifications.unread_count(user_id)


def mark_read(store: Store, user_id: uuid.UUID | str, notification_id: uuid.UUID | str | None
              = None) -> int:
    """Mark one notification (or, with no id, all of the user's) as read; returns how many."""
    if notification_id is None:
        return store.notifications.mark_all_read(user_id)
    store.notifications.mark_read(notification_id, actor=user_id)
    return 1
