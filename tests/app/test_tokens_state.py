"""The "Personal API tokens" card on the Plan usage page: its state over a real local store
(create shows the token once, revoke, sign out everywhere) and its view building."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import panel as pn
import pytest

from workbench.app import services
from workbench.app.auth import Principal, local_principal
from workbench.app.state.session import AppSession
from workbench.app.state.tokens import TokensState
from workbench.app.views.tokens_section import TokensSection
from workbench.records import tokens


@pytest.fixture
def state(workbench_home: Path) -> Iterator[TokensState]:
    services.reset_store()
    yield TokensState(session=AppSession(principal=local_principal()))
    services.reset_store()


def test_create_shows_the_token_once_then_revoke(state: TokensState) -> None:
    state.label, state.days = "ci", 7
    secret = state.create()
    assert secret.startswith("wbt_") and state.created == secret and state.label == ""
    [row] = state.tokens
    assert row["name"] == "ci" and row["status"] == "active" and secret not in str(row)
    tokens.authenticate(services.store(), secret)
    state.dismiss()
    assert state.created == ""
    state.revoke(row["id"])
    assert state.tokens[0]["status"] == "revoked" and "Revoked ci" in state.status
    with pytest.raises(Exception, match="revoked"):
        tokens.authenticate(services.store(), secret)


def test_sign_out_everywhere_and_errors(state: TokensState) -> None:
    state.label = "laptop"
    secret = state.create()
    state.sign_out_everywhere()
    assert state.tokens[0]["status"] == "signed_out" and "everywhere" in state.status
    with pytest.raises(Exception, match="signed out"):
        tokens.authenticate(services.store(), secret)
    state.label = ""
    assert state.create() == "" and "Name the token" in state.error  # bad input: a message


def test_a_personal_token_session_cannot_mint(state: TokensState) -> None:
    me = services.store().current_user()
    made = tokens.create_token(services.store(), me.id, "ci")
    via_token = Principal(user_id=str(me.id), via="api_token", token_id=str(made.token.id))
    minting = TokensState(session=AppSession(principal=via_token), label="more")
    assert minting.create() == "" and "cannot create tokens" in minting.error


def test_the_card_builds(state: TokensState) -> None:
    state.label = "ci"
    state.create()
    root = pn.panel(TokensSection(state=state)).get_root()
    assert root is not None
