"""Exchange keys: encrypted at rest, hint only in listings, every access logged."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from workbench.errors import ForbiddenError, NotFoundError, ValidationError
from workbench.records import Store
from workbench.records.keys import KeyVault, SecretKeyError, make_hint, secret_key

API_KEY = "AKIA1234567890WXYZ"
SECRET = "s3cr3t-value-that-must-never-leak"


def test_hint() -> None:
    assert make_hint(API_KEY) == "AKIA…WXYZ"
    assert make_hint("short") == "…rt" and make_hint("abc") == "…"


def test_secret_key_file_is_made_once_with_0600(workbench_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_SECRET_KEY", raising=False)
    key = secret_key()
    path = workbench_home / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key() == key and Fernet(key)
    monkeypatch.setenv("WORKBENCH_SECRET_KEY", Fernet.generate_key().decode())
    assert secret_key() != key


def test_vault_roundtrip_and_audit(store: Store, workbench_home: Path) -> None:
    a = store.profiles.create(email="a@x.io")
    b = store.profiles.create(email="b@x.io")
    vault = KeyVault(store)
    k = vault.add(a.id, "Binance", API_KEY, SECRET, label="main")
    assert k.hint == "AKIA…WXYZ" and SECRET not in k.ciphertext and API_KEY not in k.ciphertext
    listed = vault.list(a.id)
    assert len(listed) == 1 and listed[0]["hint"] == "AKIA…WXYZ"
    assert "ciphertext" not in listed[0] and SECRET not in repr(listed)
    with pytest.raises(ForbiddenError):
        vault.reveal(k.id, actor=b)
    creds = vault.reveal(k.id, actor=a, purpose="paper run")
    assert (creds.api_key, creds.secret, creds.exchange) == (API_KEY, SECRET, "binance")
    assert SECRET not in repr(creds)
    assert store.exchange_keys.get(k.id).last_used_at is not None
    with pytest.raises(ForbiddenError):
        vault.remove(k.id, actor=b)
    vault.remove(k.id, actor=a)
    with pytest.raises(NotFoundError):
        vault.reveal(k.id)
    log = store.key_access.list(key_id=k.id)
    assert sorted(e.action for e in log) == ["created", "decrypted", "removed"]
    decrypted = next(e for e in log if e.action == "decrypted")
    assert decrypted.purpose == "paper run" and decrypted.actor_id == a.id
    with pytest.raises(ValidationError):
        vault.add(a.id, "binance", API_KEY, " ")
    if store.kind == "local":  # the secret is nowhere in the file, in any encoding
        raw = (workbench_home / "records.sqlite").read_bytes()
        assert SECRET.encode() not in raw
        with sqlite3.connect(workbench_home / "records.sqlite") as conn:
            assert SECRET not in str(conn.execute("select * from exchange_keys").fetchall())


def test_wrong_secret_key_is_a_clear_error(store: Store) -> None:
    a = store.profiles.create(email="a@x.io")
    k = KeyVault(store, Fernet.generate_key()).add(a.id, "kraken", API_KEY, SECRET)
    with pytest.raises(SecretKeyError, match="differs"):
        KeyVault(store, Fernet.generate_key()).reveal(k.id)
    with pytest.raises(SecretKeyError, match="Fernet"):
        KeyVault(store, b"not-a-key")
