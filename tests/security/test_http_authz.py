"""Authorization and paths, attacked over real HTTP (issue #11: 1, 4, 9, 11 and the lows).

Two real deployments of ``workbench serve``: server mode on the postgres store (real
PostgreSQL from ``tests/_postgres.py``, real HS256 Supabase JWTs) and local mode on the
embedded store. Each test plays a signed-in user trying to read or change what is not
theirs; every attack must end in a 4xx envelope and leave nothing behind. Rows are made
hostile with the service connection, as if RLS had let a user write them: the server's own
checks must hold whatever a row says.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.app.conftest import Served, load_sample, start_server, stop_server
from tests.governance.servers import webhook_receiver

pytestmark = [pytest.mark.slow, pytest.mark.postgres]  # server mode runs on PostgreSQL

SECRET = "sec-authz-jwt-secret-of-at-least-32-bytes"
ROOT = Path(__file__).resolve().parents[2]
GRAPH = json.loads((ROOT / "workbench" / "strategies" / "sma_crossover.strategy.json")
                   .read_text())


def token(sub: str, role: str = "builder", plan: str = "premium") -> str:
    claims = {"sub": sub, "aud": "authenticated", "role": "authenticated",
              "email": f"{sub[:8]}@example.org", "exp": int(time.time() + 3600),
              "iat": int(time.time()),  # as Supabase's: a role change revokes older ones (#15)
              "app_metadata": {"role": role, "plan": plan}}
    return jwt.encode(claims, SECRET, algorithm="HS256")


@dataclass
class Deployment:
    """One running server, and the test's own connection to the same records."""

    mode: str  # "server" (postgres, JWTs) or "local"
    served: Served
    store: Any
    fernet_key: bytes

    @property
    def url(self) -> str:
        return self.served.url + "api/v1/"

    @property
    def home(self) -> Path:
        return self.served.home

    def headers(self, sub: str, role: str = "builder") -> dict[str, str]:
        if self.mode == "local":
            return {}
        return {"Authorization": f"Bearer {token(sub, role)}"}

    def user(self, sub: str) -> uuid.UUID:
        """The profile id a caller acts as (created by one authenticated request)."""
        resp = requests.get(self.url + "paper-trades", headers=self.headers(sub), timeout=60)
        assert resp.status_code == 200, resp.text
        return uuid.UUID(sub) if self.mode == "server" else self.store.current_user().id


def _home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    from cryptography.fernet import Fernet

    home = tmp_path_factory.mktemp("sec-home")
    load_sample(home)
    key = Fernet.generate_key()  # the key vault's key: what a file-read attack is after
    fd = os.open(home / "secret.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, key)
    os.close(fd)
    return home, key


@pytest.fixture(scope="module")
def server_dep(pg_cluster: Any, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Deployment]:
    from workbench.records import open_store

    url = pg_cluster.url(pg_cluster.create_db(template=pg_cluster.migrated_template()))
    home, key = _home(tmp_path_factory)
    served = start_server(home, home / "serve.log", "--server-mode", env={
        "SUPABASE_JWT_SECRET": SECRET, "WORKBENCH_STORE": "postgres",
        "WORKBENCH_DATABASE_URL": url})
    store = open_store("postgres", url=url, migrate=False, files_root=str(home / "outputs"))
    try:
        yield Deployment("server", served, store, key)
    finally:
        store.close()
        stop_server(served)


@pytest.fixture(scope="module")
def local_dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from workbench.records import open_store

    home, key = _home(tmp_path_factory)
    served = start_server(home, home / "serve.log")
    store = open_store("local", path=home / "records.sqlite", files_root=home / "outputs")
    try:
        yield Deployment("local", served, store, key)
    finally:
        store.close()
        stop_server(served)


@pytest.fixture(params=["server", "local"])
def dep(request: pytest.FixtureRequest) -> Deployment:
    return request.getfixturevalue(f"{request.param}_dep")  # type: ignore[no-any-return]


def envelope(resp: requests.Response, *statuses: int) -> dict[str, Any]:
    assert resp.status_code in statuses, (resp.status_code, resp.text[:500])
    err = resp.json()["error"]
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(err)
    return dict(err)


def leaks(dep: Deployment, resp: requests.Response) -> list[str]:
    """Secrets or server paths found in a response."""
    text = resp.content
    found = [name for name, needle in (
        ("fernet key", dep.fernet_key), ("jwt secret", SECRET.encode()),
        ("home path", str(dep.home).encode()), ("environ", b"SUPABASE_JWT_SECRET"),
        ("environ", b"WORKBENCH_DATABASE_URL")) if needle in text]
    return found


def paper_run_with_notebook(dep: Deployment, owner: uuid.UUID) -> tuple[Any, Any, str]:
    """A paper run of ``owner`` whose one tick stored a real executed notebook."""
    run = dep.store.paper_runs.create(owner, symbol="GOOG", timeframe="1d",
                                      name=f"probe {uuid.uuid4().hex[:6]}")
    key = dep.store.files.put_file(f"paper/{run.id}/20240102T000000Z.ipynb",
                                   b'{"cells": [], "nbformat": 4}')
    assert not key.startswith(("/", "file:")), key  # new records hold a key
    dep.store.commit_tick(run.id, datetime(2024, 1, 2, tzinfo=UTC), [], {}, {"equity": 1.0},
                          notebook_path=key)
    tick = dep.store.ticks.list(run.id)[0]
    return run, tick, key


def set_notebook_path(dep: Deployment, tick: Any, value: str) -> None:
    """What a user could do to their own tick row if RLS let them (sec-db stops that)."""
    assert dep.store.backend.update("paper_ticks", {"id": tick.id}, {"notebook_path": value})


# -- #11.1 files only by key, inside the store ----------------------------------------
def test_stored_notebook_path_cannot_read_any_server_file(dep: Deployment) -> None:
    alice = str(uuid.uuid4())
    owner = dep.user(alice)
    run, tick, key = paper_run_with_notebook(dep, owner)
    download = dep.url + f"paper-trades/{run.id}/notebook"
    ok = requests.get(download, headers=dep.headers(alice), timeout=60)
    assert ok.status_code == 200 and ok.content == b'{"cells": [], "nbformat": 4}'
    assert ok.headers["Content-Disposition"] == 'attachment; filename="20240102T000000Z.ipynb"'

    secret = dep.home / "secret.key"
    outputs = dep.home / "outputs"
    (outputs / "paper" / "escape.ipynb").symlink_to(secret)  # a link inside, pointing out
    hostile = [str(secret), secret.as_uri(), "/proc/self/environ", "file:///proc/self/environ",
               "../secret.key", "../../secret.key", "paper/../../secret.key",
               "file://" + str(outputs) + "/../secret.key", "paper/escape.ipynb",
               "file://otherhost" + str(secret), "supabase://another-bucket/x.ipynb",
               "http://169.254.169.254/latest/meta-data/", "C:/Windows/win.ini",
               "\\\\server\\share\\x.ipynb", "~/.workbench/secret.key"]
    for value in hostile:
        set_notebook_path(dep, tick, value)
        resp = requests.get(download, headers=dep.headers(alice), timeout=60)
        err = envelope(resp, 404, 422)
        assert not leaks(dep, resp), (value, leaks(dep, resp))
        assert resp.status_code == 404 or err["code"] == "validation_error", (value, err)

    # a record written before keys (an absolute file:// URI inside the root) still opens
    set_notebook_path(dep, tick, (outputs / key).resolve().as_uri())
    legacy = requests.get(download, headers=dep.headers(alice), timeout=60)
    assert legacy.status_code == 200 and legacy.content.startswith(b'{"cells"')
    set_notebook_path(dep, tick, key)
    assert requests.get(download, headers=dep.headers(alice), timeout=60).status_code == 200


def test_missing_notebook_is_a_404_without_server_paths(dep: Deployment) -> None:
    alice = str(uuid.uuid4())
    run, tick, _key = paper_run_with_notebook(dep, dep.user(alice))
    set_notebook_path(dep, tick, f"paper/{run.id}/gone.ipynb")
    resp = requests.get(dep.url + f"paper-trades/{run.id}/notebook",
                        headers=dep.headers(alice), timeout=60)
    envelope(resp, 404)
    assert not leaks(dep, resp)


def test_result_document_reference_is_a_key_too(dep: Deployment) -> None:
    """A backtest's ``result_uri`` (provenance, on a row its owner may write) opens only
    inside the store (the Results page reads it with ``files.get_file`` too)."""
    from workbench.errors import ValidationError

    alice = str(uuid.uuid4())
    owner = dep.user(alice)
    run = dep.store.backtests.create(owner, parameters={"symbol": "GOOG", "timeframe": "1d"})
    key = dep.store.files.put_file(f"results/{run.id}.json", b'{"metrics": {}}')
    dep.store.backtests.start(run.id)
    dep.store.backtests.succeed(run.id, {}, provenance={"result_uri": key})
    assert dep.store.files.get_file(key) == b'{"metrics": {}}'
    for value in (str(dep.home / "secret.key"), "/proc/self/environ", "../secret.key"):
        dep.store.backend.update("backtest_runs", {"id": run.id},
                                 {"provenance": {"result_uri": value}})
        row = dep.store.backtests.get(run.id)
        with pytest.raises(ValidationError) as caught:
            dep.store.files.get_file(row.provenance["result_uri"])
        assert str(dep.home) not in caught.value.message


# -- #11.11 roles from the token on every request --------------------------------------
def test_role_and_plan_follow_the_token_on_every_request(server_dep: Deployment) -> None:
    dep = server_dep
    bob, carol = str(uuid.uuid4()), str(uuid.uuid4())
    run = requests.post(dep.url + "backtests", headers=dep.headers(bob), timeout=60,
                        json={"strategy": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"})
    assert run.status_code == 202, run.text
    target = dep.url + f"backtests/{run.json()['id']}"
    as_admin = requests.get(target, headers=dep.headers(carol, "admin"), timeout=60)
    assert as_admin.status_code == 200  # admins may read any run
    demoted = requests.get(target, headers=dep.headers(carol, "builder"), timeout=60)
    assert envelope(demoted, 403)["code"] == "forbidden"
    assert dep.store.profiles.get(carol).role == "builder"
    promoted = requests.get(target, headers=dep.headers(carol, "admin"), timeout=60)
    assert promoted.status_code == 200 and dep.store.profiles.get(carol).role == "admin"
    plain = {"Authorization": f"Bearer {token(carol, 'builder', plan='free')}"}
    assert requests.get(target, headers=plain, timeout=60).status_code == 403
    assert dep.store.profiles.get(carol).plan_tier == "free"


def test_token_whose_subject_is_not_a_uuid_is_a_401(server_dep: Deployment) -> None:
    bad = {"Authorization": f"Bearer {token('not-a-uuid')}"}
    resp = requests.get(server_dep.url + "strategies", headers=bad, timeout=60)
    assert envelope(resp, 401)["code"] == "unauthorized"


# -- every route: what another signed-in user can read or change ------------------------
def test_another_user_can_neither_read_nor_change_anything_of_mine(
        server_dep: Deployment) -> None:
    dep = server_dep
    alice, mallory = str(uuid.uuid4()), str(uuid.uuid4())
    me, them = dep.headers(alice), dep.headers(mallory)
    saved = requests.post(dep.url + "strategies", headers=me, timeout=60,
                          json={"graph": GRAPH, "name": "Alice's edge"})
    assert saved.status_code == 201, saved.text
    sid, vid = saved.json()["strategy_id"], saved.json()["version_id"]
    bt = requests.post(dep.url + "backtests", headers=me, timeout=60,
                       json={"strategy_id": sid, "symbol": "GOOG", "timeframe": "1d"})
    assert bt.status_code == 202, bt.text
    run, tick, _ = paper_run_with_notebook(dep, uuid.UUID(alice))
    note = dep.store.notifications.create(uuid.UUID(alice), "system", title="private")
    status = dep.store.paper_runs.get(run.id).status
    tpl = requests.post(dep.url + "templates", headers=me, timeout=60,
                        json={"strategy_version_id": vid, "title": "Alice's template",
                              "disclaimers": ["Not advice."]})
    assert tpl.status_code == 201, tpl.text

    attacks = [
        ("GET", f"backtests/{bt.json()['id']}", None),
        ("GET", f"backtests/{bt.json()['id']}/events", None),
        ("GET", f"paper-trades/{run.id}", None),
        ("POST", f"paper-trades/{run.id}", {"action": "stop"}),
        ("GET", f"paper-trades/{run.id}/notebook", None),
        ("POST", "strategies", {"graph": GRAPH, "strategy_id": sid}),
        ("POST", "backtests", {"strategy_id": sid, "symbol": "GOOG", "timeframe": "1d"}),
        ("POST", "backtests", {"strategy_version_id": vid, "symbol": "GOOG",
                               "timeframe": "1d"}),
        ("POST", "templates", {"strategy_version_id": vid, "title": "stolen",
                               "disclaimers": ["x"]}),
        ("POST", f"templates/{tpl.json()['id']}/clone", None),  # not published yet
        ("POST", "notifications/read", {"ids": [str(note.id)]}),
    ]
    for method, path, body in attacks:
        resp = requests.request(method, dep.url + path, headers=them, json=body, timeout=60)
        err = envelope(resp, 404 if path.endswith("/clone") else 403)
        assert not leaks(dep, resp), (path, err)
    # nothing of Alice's leaks into Mallory's lists, and nothing of hers changed
    for path in ("strategies", "backtests", "paper-trades", "templates", "notifications"):
        listed = requests.get(dep.url + path, headers=them, timeout=60)
        assert listed.status_code == 200
        for secret_id in (sid, bt.json()["id"], str(run.id), tpl.json()["id"], str(note.id)):
            assert secret_id not in listed.text, path
    assert dep.store.paper_runs.get(run.id).status == status
    assert dep.store.notifications.get(note.id).read_at is None
    assert [v.version for v in dep.store.versions.list(uuid.UUID(sid))] == [1]
    assert tick.notebook_path


# -- #11.4 the shared candle cache ------------------------------------------------------
def test_only_an_admin_writes_shared_candles_in_server_mode(server_dep: Deployment,
                                                            workbench_home: Path) -> None:
    """The Data page's import goes through the service, which refuses a builder (the UI
    only hides the button); the push endpoint still needs its ingest key, JWT or not."""
    from workbench.app import services
    from workbench.app.auth import Principal, local_principal
    from workbench.app.state.data import DataState
    from workbench.app.state.session import AppSession
    from workbench.errors import ForbiddenError

    bars = [{"ts": "2024-01-01T00:00:00Z", "open": 1, "high": 2, "low": 0.5, "close": 1.5}]
    pushed = requests.post(server_dep.url + "candles", timeout=60,
                           headers=server_dep.headers(str(uuid.uuid4()), "admin"),
                           json={"symbol": "EVIL", "timeframe": "1h", "candles": bars})
    assert envelope(pushed, 401)["code"] == "unauthorized"

    csv = (ROOT / "data" / "EURUSD_1h.csv").read_bytes()
    builder = Principal(user_id=str(uuid.uuid4()), role="builder", token="t")
    with pytest.raises(ForbiddenError):
        services.import_candle_file(builder, str(ROOT / "data" / "EURUSD_1h.csv"))
    page = DataState(session=AppSession(principal=builder))
    assert page.can_import is False
    assert page.import_bytes("EURUSD_1h.csv", csv) is None and "admin" in page.error
    assert services.cached_series() == []  # nothing was written
    admin = Principal(user_id=str(uuid.uuid4()), role="admin", token="t")
    assert DataState(session=AppSession(principal=admin)).import_bytes("EURUSD_1h.csv", csv)
    assert DataState(session=AppSession(principal=local_principal())).can_import
    assert {s["symbol"] for s in services.cached_series()} == {"EURUSD"}


# -- #11.9 starters from the catalog only -----------------------------------------------
def test_starter_names_are_looked_up_in_the_catalog(dep: Deployment,
                                                    tmp_path: Path) -> None:
    evil = tmp_path / "evil.strategy.json"
    evil.write_text(json.dumps({**GRAPH, "name": "EVIL"}))
    here = ROOT / "workbench" / "strategies"
    user = str(uuid.uuid4())
    before = requests.get(dep.url + "backtests", headers=dep.headers(user), timeout=60).json()
    for name in (str(tmp_path / "evil"), os.path.relpath(tmp_path / "evil", here),
                 "../strategies/sma_crossover", "sma_crossover/../sma_crossover",
                 "a" * 300, "é" * 200):
        resp = requests.post(dep.url + "backtests", headers=dep.headers(user), timeout=60,
                             json={"strategy": name, "symbol": "GOOG", "timeframe": "1d"})
        err = envelope(resp, 422)
        assert err["code"] == "unknown_name", (name[:40], err)
        assert "EVIL" not in resp.text and not leaks(dep, resp)
    after = requests.get(dep.url + "backtests", headers=dep.headers(user), timeout=60).json()
    assert len(after) == len(before)  # nothing was queued
    good = requests.post(dep.url + "backtests", headers=dep.headers(user), timeout=60,
                         json={"strategy": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"})
    assert good.status_code == 202, good.text


# -- the lows ---------------------------------------------------------------------------
def test_health_and_404s_name_no_server_path(dep: Deployment) -> None:
    health = requests.get(dep.url + "health", timeout=60)
    assert health.status_code == 200 and not leaks(dep, health)
    assert '"path"' not in health.text and "/tmp" not in health.text
    for path in ("nope", "paper-trades/00000000-0000-0000-0000-0000000000aa/notebook",
                 "backtests/00000000-0000-0000-0000-0000000000aa"):
        resp = requests.get(dep.url + path, headers=dep.headers(str(uuid.uuid4())), timeout=60)
        envelope(resp, 404)
        assert not leaks(dep, resp)


def test_conflict_message_carries_no_sql(store: Any) -> None:
    from workbench.errors import ConflictError

    store.profiles.create(email="twice@example.org")
    with pytest.raises(ConflictError) as caught:
        store.profiles.create(email="twice@example.org")
    text = caught.value.message + json.dumps(caught.value.details, default=str)
    for sql in ("INSERT", "UNIQUE constraint", "duplicate key", "VALUES", '"email"'):
        assert sql not in text, text
    assert "profiles" in caught.value.message


def test_failed_save_leaves_no_orphan_strategy(server_dep: Deployment) -> None:
    """The version insert fails (PostgreSQL's jsonb refuses \\u0000) after the strategy
    row was written: both go, or neither."""
    dep = server_dep
    user = str(uuid.uuid4())
    bad = {**GRAPH, "name": "Orphan probe", "x_note": "a\u0000b"}
    resp = requests.post(dep.url + "strategies", headers=dep.headers(user), timeout=60,
                         json={"graph": bad})
    assert resp.status_code != 201 and "error" in resp.json()
    listed = requests.get(dep.url + "strategies", headers=dep.headers(user), timeout=60)
    assert listed.status_code == 200 and listed.json() == []
    good = requests.post(dep.url + "strategies", headers=dep.headers(user), timeout=60,
                         json={"graph": {**GRAPH, "name": "Orphan probe"}})
    assert good.status_code == 201 and good.json()["name"] == "Orphan probe"  # name is free


def test_local_records_file_is_private(local_dep: Deployment, tmp_path: Path) -> None:
    from workbench.records import open_store

    assert (local_dep.home / "records.sqlite").stat().st_mode & 0o777 == 0o600
    old = tmp_path / "old.sqlite"
    old.touch(mode=0o644)
    old.chmod(0o644)
    with open_store("local", path=old, files_root=tmp_path / "out") as st:
        st.local_user()
        assert old.stat().st_mode & 0o777 == 0o600
        assert (old.with_name("old.sqlite-wal").stat().st_mode & 0o777) == 0o600


def _webhook_outcome(dep: Deployment, owner: uuid.UUID, run_id: str) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        notes = [n for n in dep.store.notifications.list(owner, channel="webhook")
                 if n.payload.get("run_id") == run_id]
        if notes and notes[0].delivery_status in ("delivered", "failed"):
            return notes[0]
        time.sleep(0.3)
    raise AssertionError(f"no webhook outcome for run {run_id}")


def test_webhook_to_an_internal_address_is_refused_in_server_mode_only(
        dep: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.governance.notifications import ChannelSettings, save_settings_to_store

    monkeypatch.setenv("WORKBENCH_SECRET_KEY", dep.fernet_key.decode())
    user = str(uuid.uuid4())
    owner = dep.user(user)
    with webhook_receiver() as receiver:
        save_settings_to_store(dep.store, owner, ChannelSettings(
            webhook_url=receiver.url, webhook_secret="hook-secret", webhook_retries=0))
        run = requests.post(dep.url + "backtests", headers=dep.headers(user), timeout=60,
                            json={"strategy": "sma_crossover", "symbol": "GOOG",
                                  "timeframe": "1d"})
        assert run.status_code == 202, run.text
        outcome = _webhook_outcome(dep, owner, run.json()["id"])
        hits = [r for r in receiver.requests if run.json()["id"].encode() in r["body"]]
    save_settings_to_store(dep.store, owner, ChannelSettings())
    if dep.mode == "server":
        assert outcome.delivery_status == "failed" and hits == []
        assert "internal address" in (outcome.last_error or "")
    else:  # local mode: the user's own machine is a fine receiver
        assert outcome.delivery_status == "delivered" and len(hits) == 1


@pytest.mark.parametrize("url", ["http://localhost:{port}/hook", "http://127.0.0.2:{port}/",
                                 "http://[::1]:{port}/", "http://169.254.169.254/latest/",
                                 "http://10.1.2.3/", "http://192.168.0.1/", "http://0.0.0.0/",
                                 "http://[::ffff:127.0.0.1]:{port}/"])
def test_webhook_guard_checks_every_resolved_address(url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.governance.webhook import deliver_webhook

    with webhook_receiver() as receiver:
        target = url.format(port=receiver.url.split(":")[2].split("/")[0])
        monkeypatch.setenv("WORKBENCH_SERVER_MODE", "1")
        refused = deliver_webhook(target, {"x": 1}, secret="k", retries=2, sleep=lambda s: None)
        monkeypatch.delenv("WORKBENCH_SERVER_MODE")
        assert refused.status == "failed" and len(refused.attempts) == 1
        assert "refused" in refused.attempts[0]["error"] and receiver.requests == []
        allowed = deliver_webhook(receiver.url, {"x": 1}, secret="k", retries=0)
        assert allowed.status == "delivered" and len(receiver.requests) == 1


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "Debian chromium is missing (make system-deps)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.browser
@pytest.mark.parametrize("role, can_import", [("builder", False), ("admin", True)])
def test_data_page_offers_import_to_admins_only(server_dep: Deployment, chromium: Any,
                                                role: str, can_import: bool) -> None:
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(server_dep.served.url + "?page=data&token=" + token(str(uuid.uuid4()), role))
        button = page.locator(".wb-import button")
        button.wait_for(timeout=60_000)
        assert button.is_disabled() is not can_import
        assert (page.locator(".wb-data-readonly").count() == 0) is can_import
    finally:
        context.close()


# -- the workspace routes: strategies moved, paper runs created, research read -----------
def _new_strategy(dep: Deployment, sub: str, name: str) -> dict[str, Any]:
    resp = requests.post(dep.url + "strategies", headers=dep.headers(sub), timeout=60,
                         json={"graph": {**GRAPH, "name": name}, "notes": "v1"})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def test_workspace_routes_act_on_your_own_strategies(dep: Deployment) -> None:
    sub = str(uuid.uuid4())
    saved = _new_strategy(dep, sub, f"Workspace {sub[:6]}")
    sid, h = saved["strategy_id"], dep.headers(sub)
    opened = requests.get(dep.url + f"strategies/{sid}", headers=h, timeout=60)
    assert opened.status_code == 200, opened.text
    assert opened.json()["graph"]["name"].startswith("Workspace")
    assert envelope(requests.get(dep.url + f"strategies/{sid}?version=0", headers=h,
                                 timeout=60), 422)["code"] == "validation_error"
    renamed = requests.patch(dep.url + f"strategies/{sid}", headers=h, timeout=60,
                             json={"name": f"Renamed {sub[:6]}"})
    assert renamed.status_code == 200 and renamed.json()["name"] == f"Renamed {sub[:6]}"
    copy = requests.post(dep.url + f"strategies/{sid}/duplicate", headers=h, timeout=60)
    assert copy.status_code == 201, copy.text
    assert copy.json()["strategy_id"] != sid
    run = requests.post(dep.url + "paper-trades", headers=h, timeout=60, json={
        "version_id": saved["version_id"], "symbol": "GOOG", "timeframe": "1d",
        "cash": 5000, "schedule": "0 * * * *", "alerts": {"drawdown": 0.2}})
    assert run.status_code == 201, run.text
    assert run.json()["alert_config"] == {"drawdown": 0.2}
    bad = requests.post(dep.url + "paper-trades", headers=h, timeout=60, json={
        "version_id": saved["version_id"], "symbol": "GOOG", "timeframe": "1d",
        "alerts": {"explode": 1}})
    assert envelope(bad, 422)["code"] == "validation_error"
    gone = requests.delete(dep.url + f"strategies/{sid}", headers=h, timeout=60)
    assert gone.status_code == 200 and gone.json()["status"] == "archived"
    assert requests.get(dep.url + "research?kind=sweep", headers=h, timeout=60).json() == []


def test_another_user_cannot_move_open_or_trade_your_strategy(server_dep: Deployment) -> None:
    dep = server_dep
    owner, other = str(uuid.uuid4()), str(uuid.uuid4())
    saved = _new_strategy(dep, owner, "Owner's")
    sid, h = saved["strategy_id"], dep.headers(other)
    attempts = [
        requests.get(dep.url + f"strategies/{sid}", headers=h, timeout=60),
        requests.patch(dep.url + f"strategies/{sid}", headers=h, timeout=60,
                       json={"name": "stolen"}),
        requests.delete(dep.url + f"strategies/{sid}", headers=h, timeout=60),
        requests.post(dep.url + f"strategies/{sid}/duplicate", headers=h, timeout=60),
        requests.post(dep.url + "paper-trades", headers=h, timeout=60, json={
            "version_id": saved["version_id"], "symbol": "GOOG", "timeframe": "1d"}),
    ]
    for resp in attempts:
        envelope(resp, 403, 404)
        assert leaks(dep, resp) == []
    mine = requests.get(dep.url + f"strategies/{sid}", headers=dep.headers(owner), timeout=60)
    assert mine.status_code == 200 and mine.json()["name"] == "Owner's"
    assert [r for r in dep.store.paper_runs.list() if str(r.strategy_id) == sid] == []


# -- research submitted over HTTP (#17 item 5): your own strategies only, bounded, counted --
def _poll_research(dep: Deployment, sub: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = requests.get(dep.url + f"research/{run_id}", headers=dep.headers(sub), timeout=60)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        status = (body.get("run") or body)["status"]
        if status in ("succeeded", "failed"):
            return body
        assert status in ("queued", "running") and 0.0 <= body["progress"] <= 1.0, body
        time.sleep(0.5)
    raise AssertionError(f"research run {run_id} did not finish: {body}")


def test_research_is_submitted_polled_and_recorded_for_your_own_strategy(dep: Deployment
                                                                         ) -> None:
    sub = str(uuid.uuid4())
    saved = _new_strategy(dep, sub, f"Research {sub[:6]}")
    h = dep.headers(sub)
    before = {r["id"] for r in requests.get(dep.url + "research", headers=h, timeout=60).json()}
    sweep = requests.post(dep.url + "research", headers=h, timeout=60, json={
        "kind": "sweep", "strategy": saved["strategy_id"], "symbol": "GOOG",
        "timeframe": "1d", "grid": {"fast.window": "5:15:5", "slow.window": [40, 60]}})
    assert sweep.status_code == 202, sweep.text
    accepted = sweep.json()
    assert accepted["status"] == "queued" and accepted["kind"] == "sweep"
    assert sweep.headers["Location"] == f"/api/v1/research/{accepted['id']}"
    assert accepted["poll"] == f"/api/v1/research/{accepted['id']}"
    doc = _poll_research(dep, sub, accepted["id"])
    assert doc["run"]["status"] == "succeeded", doc
    assert doc["run"]["strategy_id"] == saved["strategy_id"]
    assert len(doc["rows"]) == 6  # 3 x 2 combinations
    walk = requests.post(dep.url + "research", headers=h, timeout=60, json={
        "kind": "walkforward", "strategy": "sma_crossover", "symbol": "GOOG",
        "timeframe": "1d", "grid": {"fast.window": [5, 10]}, "train": 0.5, "test": 0.25})
    assert walk.status_code == 202, walk.text
    wdoc = _poll_research(dep, sub, walk.json()["id"])
    assert wdoc["run"]["status"] == "succeeded" and wdoc["windows"], wdoc
    listed = requests.get(dep.url + "research", headers=h, timeout=60).json()
    assert {r["id"] for r in listed} - before == {accepted["id"], walk.json()["id"]}
    # a run that fails (no candles for the symbol) polls as failed with its error
    failed = requests.post(dep.url + "research", headers=h, timeout=60, json={
        "kind": "sweep", "strategy": "sma_crossover", "symbol": "NOPE", "timeframe": "1d",
        "grid": {"fast.window": [5]}})
    assert failed.status_code == 202, failed.text
    fdoc = _poll_research(dep, sub, failed.json()["id"])
    assert fdoc["status"] == "failed" and fdoc["error"], fdoc
    assert leaks(dep, failed) == []


@pytest.mark.parametrize("body, where", [
    ({"grid": {"fast.window": "1:1000000000000:1"}}, "grid"),  # counted, never expanded
    ({"grid": {"fast.window": "1:900:1", "slow.window": "1:900:1"}}, "grid"),
    ({"grid": {}}, "grid"),
    ({"grid": {"fast.window": "5:1:1"}}, "grid"),
    ({"train": 0.5}, "body"),  # windows belong to a walk-forward
    ({"kind": "backtest"}, "kind"),
    ({"timeframe": "2d"}, "timeframe"),
    ({"surprise": 1}, "surprise"),
])
def test_research_requests_are_bounded_and_named(dep: Deployment, body: dict[str, Any],
                                                 where: str) -> None:
    sub = str(uuid.uuid4())
    h = dep.headers(sub)
    before = requests.get(dep.url + "research", headers=h, timeout=60).json()
    req = {"kind": "sweep", "strategy": "sma_crossover", "symbol": "GOOG", "timeframe": "1d",
           "grid": {"fast.window": [5, 10]}, **body}
    err = envelope(requests.post(dep.url + "research", headers=h, timeout=60, json=req), 422)
    assert err["code"] == "validation_error"
    if where != "body":
        assert where in json.dumps(err["details"]), err
    assert requests.get(dep.url + "research", headers=h, timeout=60).json() == before


def test_research_metric_and_starter_names_are_checked(dep: Deployment) -> None:
    sub = str(uuid.uuid4())
    h = dep.headers(sub)
    before = requests.get(dep.url + "research", headers=h, timeout=60).json()
    base = {"kind": "sweep", "symbol": "GOOG", "timeframe": "1d", "grid": {"fast.window": [5]}}
    metric = requests.post(dep.url + "research", headers=h, timeout=60,
                           json={**base, "strategy": "sma_crossover", "metric": "luck"})
    assert "luck" in envelope(metric, 422)["message"]
    for name in ("../../secret.key", "nope", "x" * 200):
        resp = requests.post(dep.url + "research", headers=h, timeout=60,
                             json={**base, "strategy": name})
        envelope(resp, 422)
        assert leaks(dep, resp) == []
    assert requests.get(dep.url + "research", headers=h, timeout=60).json() == before


def test_another_user_cannot_research_or_read_your_research(server_dep: Deployment) -> None:
    dep = server_dep
    owner, other = str(uuid.uuid4()), str(uuid.uuid4())
    saved = _new_strategy(dep, owner, "Owner's research")
    mine = requests.post(dep.url + "research", headers=dep.headers(owner), timeout=60, json={
        "kind": "sweep", "strategy": saved["strategy_id"], "symbol": "GOOG",
        "timeframe": "1d", "grid": {"fast.window": [5, 10]}})
    assert mine.status_code == 202, mine.text
    run_id = mine.json()["id"]
    _poll_research(dep, owner, run_id)
    h = dep.headers(other)
    dep.user(other)
    attempts = [
        requests.post(dep.url + "research", headers=h, timeout=60, json={
            "kind": kind, "strategy": saved["strategy_id"], "symbol": "GOOG",
            "timeframe": "1d", "grid": {"fast.window": [5, 10]}})
        for kind in ("sweep", "walkforward")]
    for resp in attempts:
        envelope(resp, 403, 404)
        assert leaks(dep, resp) == []
    read = requests.get(dep.url + f"research/{run_id}", headers=h, timeout=60)
    envelope(read, 403, 404)
    assert leaks(dep, read) == [] and "rows" not in read.text and owner not in read.text
    assert requests.get(dep.url + "research", headers=h, timeout=60).json() == []
    runs = dep.store.research.list(owner_id=uuid.UUID(other))
    assert runs == []  # nothing was queued (or counted) for the other user
    assert [r.id for r in dep.store.research.list(owner_id=uuid.UUID(owner))] == [
        uuid.UUID(run_id)]


def test_research_counts_against_the_daily_quota(tmp_path_factory: pytest.TempPathFactory
                                                 ) -> None:
    home = tmp_path_factory.mktemp("research-quota")
    load_sample(home)
    served = start_server(home, home / "serve.log", env={"WORKBENCH_LIMIT_FREE_BACKTESTS": "1"})
    try:
        url = served.url + "api/v1/research"
        body = {"kind": "sweep", "strategy": "sma_crossover", "symbol": "GOOG",
                "timeframe": "1d", "grid": {"fast.window": [5, 10]}}
        assert requests.post(url, json=body, timeout=60).status_code == 202
        err = envelope(requests.post(url, json=body, timeout=60), 429)
        assert err["code"] == "quota_exceeded"
        assert err["details"]["metric"] == "backtests" and err["details"]["limit"] == 1
        assert len(requests.get(url, timeout=60).json()) == 1
    finally:
        stop_server(served)
