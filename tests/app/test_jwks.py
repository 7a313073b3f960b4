"""Server mode with ``SUPABASE_JWKS_URL``: tokens verified against a real JWKS endpoint on
127.0.0.1, fetched once per process, not once per request (issue #18)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from workbench.app import auth
from workbench.config import settings
from workbench.errors import UnauthorizedError


@pytest.fixture()
def jwks_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    state: dict[str, Any] = {"key": key, "fetches": 0, "keys": [jwk]}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state["fetches"] += 1
            body = json.dumps({"keys": state["keys"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json"
    monkeypatch.setenv("SUPABASE_JWKS_URL", url)
    monkeypatch.delenv("SUPABASE_JWT_SECRET", raising=False)
    auth._jwks_client.cache_clear()
    try:
        yield state
    finally:
        auth._jwks_client.cache_clear()
        server.shutdown()
        server.server_close()
        thread.join()


def _token(key: Any, kid: str = "k1", role: str = "builder") -> str:
    claims = {"sub": str(uuid.uuid4()), "aud": "authenticated", "exp": int(time.time()) + 600,
              "app_metadata": {"role": role}}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_jwks_is_fetched_once_for_many_requests(jwks_server: dict[str, Any]) -> None:
    for role in ("builder", "admin", "educator", "builder", "admin"):
        assert auth.verify_jwt(_token(jwks_server["key"], role=role)).role == role
    assert jwks_server["fetches"] == 1


def test_token_signed_by_another_key_is_refused(jwks_server: dict[str, Any]) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(UnauthorizedError):
        auth.verify_jwt(_token(other))


def test_made_up_key_ids_do_not_refetch_within_the_cooldown(
        jwks_server: dict[str, Any]) -> None:
    auth.verify_jwt(_token(jwks_server["key"]))
    for i in range(5):
        with pytest.raises(UnauthorizedError):
            auth.verify_jwt(_token(jwks_server["key"], kid=f"made-up-{i}"))
    assert jwks_server["fetches"] <= 2  # one refresh at most, then the cooldown holds


def test_rotated_key_is_picked_up_with_one_refetch(jwks_server: dict[str, Any]) -> None:
    auth.verify_jwt(_token(jwks_server["key"]))
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(new.public_key()))
    jwk.update(kid="k2", use="sig", alg="RS256")
    jwks_server["keys"] = [jwks_server["keys"][0], jwk]
    client = auth._jwks_client(settings().supabase_jwks_url)
    client.cooldown_duration = 0  # as if the 30 s cooldown had passed since the last fetch
    assert auth.verify_jwt(_token(new, kid="k2")).role == "builder"
    assert jwks_server["fetches"] == 2
