"""Issue #17 items 8, 9 and 10 in headless Debian Chromium against real `workbench serve`s.

The compliance queue shows what is reviewed (title, description, disclaimers, a graph
preview, the backtest summary, the submitter) and an empty reason is an error at the
field; the local user tries the educator flow (plan switcher, or WORKBENCH_LOCAL_TIER)
and the template lands in the queue; in server mode a free user cannot become an
educator by any route; the Data page speaks the app's words at the fields and its list
refreshes after an import. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from playwright.sync_api import expect

from tests.app.pages import backtest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-jwt-secret-of-at-least-32-bytes!!"
DISCLAIMER = "Simulated results; not investment advice."
FREE_DEFAULTS = {"WORKBENCH_LIMIT_FREE_TEMPLATE_PUBLISHES": "0"}  # the shipped free plan


def saved_and_backtested(url: str, headers: dict[str, str] | None = None) -> str:
    """Save the SMA crossover as a strategy over the API and backtest that version on
    GOOG 1d; returns the version id."""
    graph = requests.get(url + "api/v1/strategies", headers=headers, timeout=30)
    assert graph.status_code == 200, graph.text
    from workbench import api

    doc = dict(api.starter("sma_crossover").document, name="SMA lesson")
    saved = requests.post(url + "api/v1/strategies", headers=headers, timeout=60,
                          json={"graph": doc, "notes": "lesson v1"})
    assert saved.status_code == 201, saved.text
    version_id = str(saved.json()["version_id"])
    backtest(url, {"strategy_version_id": version_id, "symbol": "GOOG", "timeframe": "1d"},
             headers)
    return version_id


def publish_on_page(page: Any, title: str) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Title").press("Enter")
    page.get_by_label("Description").fill("Learn how two moving averages cross.")
    page.get_by_label("Description").press("Tab")
    page.locator(".wb-publish button").click()


def test_local_user_switches_to_educator_publishes_and_reviews_the_queue(
        server_factory: Any, tabs: Any, artifacts_dir: Path) -> None:
    srv = server_factory(env=FREE_DEFAULTS)
    saved_and_backtested(srv.url)
    tab = tabs(srv)
    page = tab.open("?page=templates")
    publish_on_page(page, "SMA lesson")
    refused = page.locator(".wb-main .wb-error")
    expect(refused).to_contain_text("template_publishes")
    expect(refused).to_contain_text(re.compile(r"Publishing templates needs the .*Educator"))
    tab.shot(artifacts_dir, "gov-publish-refused-free")

    tab.nav("plan-usage")
    expect(page.locator(".wb-usage-template_publishes")).to_contain_text("0 used of 0")
    expect(page.locator(".wb-who")).to_contain_text("free plan")
    page.locator(".wb-plan-select select").select_option("educator")
    page.locator(".wb-plan-switch button").click()
    expect(page.locator(".wb-plan-status")).to_contain_text("educator plan")
    # the header follows the switch at once (it kept saying "free plan" until a reload)
    expect(page.locator(".wb-who")).to_contain_text("educator plan")
    expect(page.locator(".wb-usage-template_publishes")).to_contain_text("0 used of 25")
    tab.shot(artifacts_dir, "gov-plan-switched")

    tab.nav("templates")
    publish_on_page(page, "SMA lesson")
    expect(page.get_by_text(re.compile("for disclosure review"))).to_be_visible()

    tab.nav("compliance")
    entry = page.locator(".wb-review").first
    text = entry.locator(".wb-review-text")
    expect(text.locator("h3")).to_have_text("SMA lesson")
    expect(text).to_contain_text("Learn how two moving averages cross.")
    expect(text).to_contain_text("Educational material, not investment advice.")
    expect(text).to_contain_text("submitted by")
    expect(text).to_contain_text("sma (window=50)")
    expect(text).to_contain_text(re.compile(r"Backtest GOOG 1d, 20\d\d-\d\d-\d\d to "))
    expect(text).to_contain_text(re.compile(r"Trades \d+"))
    svg = entry.locator(".wb-graph-svg")
    expect(svg).to_be_visible()
    assert svg.locator(".wb-graph-node").count() == 7
    assert svg.locator("line").count() == 8
    tab.shot(artifacts_dir, "gov-compliance-queue")

    entry.locator(".wb-approved button").click()  # no reason: an error at the field
    error = entry.locator(".wb-reason-error")
    expect(error).to_contain_text("A reason is required to approve")
    expect(page.locator(".wb-review")).to_have_count(1)
    tab.shot(artifacts_dir, "gov-compliance-empty-reason")

    entry.get_by_label("Reason").fill("disclosures are adequate")
    entry.locator(".wb-approved button").click()
    expect(page.locator(".wb-review-status")).to_contain_text("Review approved.")
    expect(page.get_by_text("The review queue is empty.")).to_be_visible()
    tab.nav("templates")
    expect(page.locator(".wb-gallery").get_by_text(re.compile("published"))).to_be_visible()


def test_local_tier_env_var_makes_an_educator(server_factory: Any, tabs: Any,
                                              artifacts_dir: Path) -> None:
    """The regression: WORKBENCH_LOCAL_TIER=educator as documented changed nothing."""
    srv = server_factory(env={**FREE_DEFAULTS, "WORKBENCH_LOCAL_TIER": "educator"})
    saved_and_backtested(srv.url)
    tab = tabs(srv)
    page = tab.open("?page=plan-usage")
    expect(page.locator(".wb-who")).to_contain_text("educator plan")
    expect(page.locator(".wb-plan-pinned")).to_contain_text("WORKBENCH_LOCAL_TIER=educator")
    assert page.locator(".wb-plan-switch").count() == 0
    tab.nav("templates")
    publish_on_page(page, "Env educator lesson")
    expect(page.get_by_text(re.compile("for disclosure review"))).to_be_visible()
    tab.nav("compliance")
    expect(page.locator(".wb-review h3")).to_have_text("Env educator lesson")
    tab.shot(artifacts_dir, "gov-env-educator-queue")


def token(sub: str, plan: str = "free") -> str:
    claims = {"sub": sub, "aud": "authenticated", "role": "authenticated",
              "email": f"{sub[:8]}@example.org", "exp": int(time.time() + 3600),
              "app_metadata": {"role": "builder", "plan": plan},
              "user_metadata": {"plan": "educator", "plan_tier": "educator",
                                "role": "admin"}}  # editable by the user: never trusted
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_server_mode_free_user_cannot_become_an_educator(server_factory: Any, tabs: Any,
                                                         artifacts_dir: Path) -> None:
    srv = server_factory("--server-mode", env={**FREE_DEFAULTS, "SUPABASE_JWT_SECRET": SECRET})
    user = str(uuid.uuid4())
    auth = {"Authorization": f"Bearer {token(user)}"}
    version_id = saved_and_backtested(srv.url, auth)
    for method in ("POST", "PUT", "PATCH"):  # no route changes a plan
        for path in ("profile", "me", "plan", "plan-usage", "profiles/" + user, "settings"):
            resp = requests.request(method, srv.url + "api/v1/" + path, headers=auth,
                                    json={"plan_tier": "educator", "plan": "educator"},
                                    timeout=30)
            assert resp.status_code in (404, 405), (method, path, resp.status_code)
    body = {"strategy_version_id": version_id, "title": "Sneaky", "disclaimers": [DISCLAIMER]}
    refused = requests.post(srv.url + "api/v1/templates", headers=auth, json=body, timeout=30)
    assert refused.status_code == 429, refused.text
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded" and error["details"]["plan_tier"] == "free"
    assert "Educator" in error["details"]["upgrade_hint"]

    tab = tabs(srv)
    page = tab.open("?page=plan-usage&token=" + token(user))
    expect(page.locator(".wb-who")).to_contain_text("free plan")
    page.locator(".wb-usage-template_publishes").wait_for()
    assert page.locator(".wb-plan-switch").count() == 0
    assert page.locator(".wb-plan-select").count() == 0
    assert page.locator(".wb-plan-pinned").count() == 0
    tab.shot(artifacts_dir, "gov-server-free-plan-page")
    tab.nav("templates")
    publish_on_page(page, "Sneaky")
    expect(page.locator(".wb-main .wb-error")).to_contain_text("template_publishes")

    educator = {"Authorization": f"Bearer {token(user, plan='educator')}"}  # the IdP says so
    allowed = requests.post(srv.url + "api/v1/templates", headers=educator, json=body,
                            timeout=30)
    assert allowed.status_code == 201, allowed.text
    again = requests.post(srv.url + "api/v1/templates", headers=auth, json=body, timeout=30)
    assert again.status_code == 429  # back on a free token: free again


def test_data_page_field_errors_and_list_refresh(server_factory: Any, tabs: Any,
                                                 artifacts_dir: Path,
                                                 tmp_path: Path) -> None:
    srv = server_factory()
    tab = tabs(srv)
    page = tab.open("?page=data")
    table = page.locator(".wb-data-table table")
    expect(table).to_contain_text("GOOG")
    page.locator(".wb-import button").click()  # nothing chosen
    expect(page.locator(".wb-file_error")).to_contain_text("choose a CSV or Parquet file")

    unnamed = tmp_path / "prices.csv"  # no SYMBOL_TF in the name: the fields must say it
    unnamed.write_bytes((ROOT / "data" / "EURUSD_1h.csv").read_bytes())
    page.locator(".wb-upload input[type=file]").set_input_files(str(unnamed))
    page.wait_for_timeout(500)  # the file's bytes reach the server
    page.locator(".wb-import button").click()
    symbol_error = page.locator(".wb-symbol_error")
    expect(symbol_error).to_contain_text("Symbol: type the symbol of prices.csv")
    assert "--symbol" not in page.locator(".wb-main").inner_text()
    tab.shot(artifacts_dir, "gov-data-symbol-error")

    page.locator(".wb-symbol input").fill("FXTEST")
    page.locator(".wb-symbol input").press("Enter")
    page.locator(".wb-import button").click()
    expect(page.locator(".wb-timeframe_error")).to_contain_text("Timeframe: choose")
    expect(symbol_error).to_be_hidden()

    page.locator(".wb-timeframe select").select_option("1h")
    page.locator(".wb-import button").click()
    expect(page.locator(".wb-data-status")).to_contain_text(
        re.compile(r"Imported \d+ rows of FXTEST 1h"), timeout=60_000)
    expect(table).to_contain_text("FXTEST")  # the list refreshed
    tab.shot(artifacts_dir, "gov-data-imported")

    bad = tmp_path / "BROKEN_1d.csv"
    bad.write_text("ts,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,1\n"
                   "2024-01-02,1,0.5,2,1,1\n")
    page.locator(".wb-symbol input").fill("")
    page.locator(".wb-symbol input").press("Enter")
    page.locator(".wb-upload input[type=file]").set_input_files(str(bad))
    page.wait_for_timeout(500)
    page.locator(".wb-import button").click()
    error = page.locator(".wb-main .wb-error")
    expect(error).to_contain_text("BROKEN_1d.csv rejected, nothing written")
    expect(error).to_contain_text("row 2")
    expect(table).not_to_contain_text("BROKEN")
    tab.shot(artifacts_dir, "gov-data-bad-file")
