"""The legitimate paths a signed-in user takes over Supabase (supabase-py through the HTTP
stand-in, requests run under the JWT's role on the real PostgreSQL with Supabase's default
privileges) still work now that ledgers, audit and counters go through the database's
definer functions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet

from tests.records._fake_supabase import FakeSupabase, make_jwt
from workbench.governance import audit, compliance, templates
from workbench.records import Store, open_store
from workbench.records.keys import KeyVault

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_fake(db_supabase_url: str) -> Iterator[FakeSupabase]:
    server = FakeSupabase(db_supabase_url).start()
    try:
        yield server
    finally:
        server.stop()


def _user(fake: FakeSupabase, sub: uuid.UUID, **meta: str) -> Store:
    claims = {"app_metadata": meta} if meta else {}
    return open_store("supabase", url=fake.url, key=fake.anon_key,
                      jwt=make_jwt(str(sub), **claims), bucket="outputs")


def test_user_paths_over_supabase_with_definer_functions(db_fake: FakeSupabase,
                                                         db_supabase_url: str) -> None:
    edu = _user(db_fake, uuid.uuid4(), role="educator", plan="educator")
    me = edu.current_user()
    assert (me.role, me.plan_tier) == ("educator", "educator")  # from the token, accepted
    strategy = edu.strategies.create(me.id, "Shared")
    version = edu.versions.save(strategy.id, {"n": 1})
    sub = templates.submit(edu, me, version.id, disclaimers=["Past results."])
    assert sub.review.payload["content_rev"] == 1
    # the key vault logs through workbench_log_key_access, as the caller
    vault = KeyVault(edu, Fernet.generate_key())
    key = vault.add(me.id, "binance", "api-key-123456", "s3cret")
    assert vault.reveal(key.id, actor=me, purpose="test").secret == "s3cret"
    vault.remove(key.id, actor=me)
    assert [(r.action, r.actor_id) for r in edu.key_access.list(owner_id=me.id)] == [
        ("removed", me.id), ("decrypted", me.id), ("created", me.id)]

    service = open_store("postgres", url=db_supabase_url, migrate=False)
    try:
        admin = service.profiles.create(email="admin@x.io", role="admin")
        compliance.review(service, admin, sub.review.id, "approve", "fine")
        assert service.templates.get(sub.template.id).status == "published"
        # a student clones it over HTTP: counted once, for the clone they made
        student = _user(db_fake, uuid.uuid4())
        made = templates.clone(student, sub.template.id, student.current_user())
        assert made.template.clone_count == 1
        assert made.strategy.source_template_id == sub.template.id
        # every event the users appended through the database verifies in Python
        actions = [e.action for e in service.audit.list()]
        assert {"template.submitted", "compliance.requested", "compliance.approved",
                "template.cloned"} <= set(actions)
        report = audit.verify_store(service)
        assert report.ok, report.broken
    finally:
        service.close()
