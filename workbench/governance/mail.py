"""E-mail delivery over SMTP (stdlib ``smtplib``), configured from the environment.

``WORKBENCH_SMTP_HOST`` (no host = e-mail is skipped, not an error),
``WORKBENCH_SMTP_PORT`` (default 25; 465 means implicit TLS), ``WORKBENCH_SMTP_FROM``
(default ``workbench@localhost``), ``WORKBENCH_SMTP_USER`` / ``WORKBENCH_SMTP_PASSWORD``
(login when both are set), ``WORKBENCH_SMTP_STARTTLS=1`` (upgrade the connection),
``WORKBENCH_SMTP_TIMEOUT`` (seconds, default 10).

(Named ``mail`` rather than ``email`` so it can never shadow the standard library.)
"""

from __future__ import annotations

import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage

from workbench import config
from workbench.governance.webhook import Delivery


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "workbench@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """Settings from ``WORKBENCH_SMTP_*``, or None when no host is configured."""
        env = config.settings()
        if not env.smtp_host:
            return None
        return cls(host=env.smtp_host, port=env.smtp_port, sender=env.smtp_from,
                   username=env.smtp_user, password=env.smtp_password,
                   starttls=env.smtp_starttls, timeout_s=env.smtp_timeout)


def _one_line(text: str) -> str:
    """Header values on one line: a title with a newline must not inject headers."""
    return " ".join(str(text).split())


def build_message(sender: str, to: str, subject: str, body: str,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _one_line(sender)
    msg["To"] = _one_line(to)
    msg["Subject"] = _one_line(subject)
    for name, value in (headers or {}).items():
        msg[name] = _one_line(value)
    msg.set_content(body)
    return msg


def send_email(to: str, subject: str, body: str, *, settings: SmtpSettings | None = None,
               headers: dict[str, str] | None = None, retries: int = 1,
               base_delay_s: float = 1.0) -> Delivery:
    """Send one plain-text e-mail; never raises (the outcome is in the Delivery)."""
    delivery = Delivery(channel="email", status="failed")
    settings = settings or SmtpSettings.from_env()
    if settings is None:
        delivery.status = "skipped"
        delivery.attempts.append({"attempt": 0, "error": "WORKBENCH_SMTP_HOST is not set"})
        return delivery
    msg = build_message(settings.sender, to, subject, body,
                        {"X-Workbench-Delivery": delivery.delivery_id, **(headers or {})})
    for attempt in range(1, retries + 2):
        record: dict[str, object] = {"attempt": attempt, "at": str(int(time.time()))}
        try:
            smtp_cls = smtplib.SMTP_SSL if settings.port == 465 else smtplib.SMTP
            with smtp_cls(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
                if settings.starttls:
                    smtp.starttls()
                if settings.username and settings.password:
                    smtp.login(settings.username, settings.password)
                refused = smtp.send_message(msg)
            if refused:
                record["error"] = f"recipients refused: {sorted(refused)}"
                delivery.attempts.append(record)
                return delivery  # the server answered; retrying will not change its mind
            record["status"] = 250
            delivery.attempts.append(record)
            delivery.status = "delivered"
            return delivery
        except smtplib.SMTPRecipientsRefused as exc:
            record["error"] = f"recipients refused: {sorted(exc.recipients)}"
            delivery.attempts.append(record)
            return delivery
        except (smtplib.SMTPException, OSError) as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        delivery.attempts.append(record)
        if attempt <= retries:
            time.sleep(base_delay_s * 2 ** (attempt - 1))
    return delivery
