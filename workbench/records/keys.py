"""Exchange API keys: encrypted at rest, listed only by hint, every access logged.

The seed (``003_*``) stores keys encrypted with a server-side key and shows a
``first4…last4`` hint. Here the cipher is Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``); the key comes from ``WORKBENCH_SECRET_KEY`` or, when unset, from
``$WORKBENCH_HOME/secret.key``, generated once with 0600 permissions. Back that file up:
without it stored keys cannot be decrypted. Creating, decrypting and removing a key each
write a :class:`~workbench.records.models.KeyAccess` row.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.config import settings
from workbench.errors import ValidationError, WorkbenchError
from workbench.records.models import ExchangeKey
from workbench.records.store import Actor, Store

SECRET_FILE = "secret.key"


class SecretKeyError(WorkbenchError):
    code = "secret_key_error"
    http_status = 500


def secret_key() -> bytes:
    """The Fernet key: ``$WORKBENCH_SECRET_KEY`` or ``$WORKBENCH_HOME/secret.key`` (made once)."""
    from cryptography.fernet import Fernet

    env = settings().secret_key
    if env:
        return env.strip().encode()
    from workbench.config import home

    path = home() / SECRET_FILE
    if not path.exists():
        key = Fernet.generate_key()
        try:  # O_EXCL: two processes starting at once cannot write two different keys
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
    return Path(path).read_bytes().strip()


def make_hint(api_key: str) -> str:
    """``abcd…wxyz`` for keys of 12+ characters; shorter keys show only the last 2."""
    key = api_key.strip()
    if len(key) >= 12:
        return f"{key[:4]}…{key[-4:]}"
    return f"…{key[-2:]}" if len(key) > 4 else "…"


@dataclass(frozen=True)
class Credentials:
    """Decrypted credentials; ``repr`` never shows the secrets."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)
    exchange: str = ""
    hint: str = ""


class KeyVault:
    """Add, list, decrypt and remove exchange keys of a :class:`Store`."""

    def __init__(self, store: Store, key: bytes | None = None) -> None:
        from cryptography.fernet import Fernet

        self.store = store
        try:
            self._fernet = Fernet(key or secret_key())
        except ValueError:
            raise SecretKeyError(
                "WORKBENCH_SECRET_KEY is not a valid Fernet key (32 url-safe base64 bytes); "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'") from None

    def add(self, owner_id: uuid.UUID | str, exchange: str, api_key: str, secret: str, *,
            passphrase: str | None = None, label: str = "") -> ExchangeKey:
        """Encrypt and store a credential; returns the row (its ``ciphertext`` is opaque)."""
        if not api_key.strip() or not secret.strip():
            raise ValidationError("Both the API key and its secret are required.",
                                  details={"fields": ["api_key", "secret"]})
        if not exchange.strip():
            raise ValidationError("Name the exchange (e.g. binance, kraken).",
                                  details={"field": "exchange"})
        blob = json.dumps({"api_key": api_key.strip(), "secret": secret.strip(),
                           "passphrase": passphrase})
        row = ExchangeKey(owner_id=uuid.UUID(str(owner_id)), exchange=exchange.strip().lower(),
                          label=label, hint=make_hint(api_key),
                          ciphertext=self._fernet.encrypt(blob.encode()).decode())
        with self.store.transaction():
            saved = self.store.exchange_keys.add(row)
            self.store.key_access.log(saved.id, saved.owner_id, "created",
                                      actor_id=saved.owner_id)
        return saved

    def list(self, owner_id: uuid.UUID | str) -> list[dict[str, Any]]:
        """What a UI may show: id, exchange, label, hint, times. Never the ciphertext."""
        return [{"id": k.id, "exchange": k.exchange, "label": k.label, "hint": k.hint,
                 "created_at": k.created_at, "last_used_at": k.last_used_at}
                for k in self.store.exchange_keys.list(owner_id)]

    def reveal(self, key_id: uuid.UUID | str, *, actor: Actor = None,
               purpose: str = "") -> Credentials:
        """Decrypt one key (owner or admin only) and log the access with its purpose."""
        from cryptography.fernet import InvalidToken

        key = self.store.exchange_keys.get(key_id, actor=actor)
        try:
            data = json.loads(self._fernet.decrypt(key.ciphertext.encode()))
        except InvalidToken:
            raise SecretKeyError(
                f"Exchange key {key.id} cannot be decrypted with this secret key: "
                f"WORKBENCH_SECRET_KEY (or $WORKBENCH_HOME/{SECRET_FILE}) differs from the "
                f"one used when it was added. Restore that key or add the credential again.",
                details={"key_id": str(key.id)}) from None
        with self.store.transaction():
            self.store.key_access.log(key.id, key.owner_id, "decrypted",
                                      actor_id=self.store.actor_id(actor), purpose=purpose)
            self.store.exchange_keys.touch(key.id)
        return Credentials(api_key=data["api_key"], secret=data["secret"],
                           passphrase=data.get("passphrase"), exchange=key.exchange,
                           hint=key.hint)

    def remove(self, key_id: uuid.UUID | str, *, actor: Actor = None) -> None:
        """Delete a key (owner or admin only); the access log keeps the removal."""
        key = self.store.exchange_keys.get(key_id, actor=actor)
        with self.store.transaction():  # logged first: the database checks the key is yours
            self.store.key_access.log(key.id, key.owner_id, "removed",
                                      actor_id=self.store.actor_id(actor))
            self.store.exchange_keys.remove(key.id, actor=actor)
