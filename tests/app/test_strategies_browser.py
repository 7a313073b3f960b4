"""A person's strategies in the app (issue #17 items 1, 2 and 12), in headless Debian
Chromium against a real ``workbench serve``: save, reload and find the strategy reopened;
rename; duplicate; delete with a confirmation; a blank canvas saved is a new strategy (the
old one keeps its versions); a strategy cloned from a template opens; run labels show the
version, the date range and the params that differ. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from playwright.sync_api import expect

from tests.app.conftest import ROOT, server_env
from tests.app.pages import Tab, finish

pytestmark = [pytest.mark.slow, pytest.mark.browser]



class StrategiesTab(Tab):
    """The app opened on the canvas with the strategy browser beside it."""

    ready = ".wb-strategy-browser"

    def __init__(self, browser: Any, served: Any) -> None:
        super().__init__(browser, served, prefix="strategies",
                         viewport={"width": 1600, "height": 1200})

    def open(self, query: str = "") -> Any:
        page = super().open(query)
        page.wait_for_selector('[data-testid="canvas-root"]')
        return page


@pytest.fixture
def tab(browser: Any, served: Any, artifacts_dir: Path,
        request: pytest.FixtureRequest) -> Iterator[Tab]:
    t = StrategiesTab(browser, served)
    yield t
    finish([t], artifacts_dir, request)


# -- what a person does -----------------------------------------------------------------
def current(page: Any) -> Any:
    return page.locator(".wb-strategy-current")


def status(page: Any) -> Any:
    return page.locator("div.wb-status")


def save(page: Any, expect_text: str | re.Pattern[str]) -> None:
    page.locator(".wb-save button").click()
    expect(status(page)).to_contain_text(expect_text)


def note(page: Any, text: str) -> None:
    box = page.locator(".wb-version-notes textarea")
    box.fill(text)
    box.press("Tab")


def start_from(page: Any, label: str) -> None:
    page.locator(".wb-start-from select").select_option(label=label)
    expect(current(page)).to_contain_text("New strategy")


def rename(page: Any, name: str) -> None:
    box = page.locator(".wb-strategy-name input")
    box.fill(name)
    box.press("Enter")
    page.locator(".wb-strategy-rename button").click()
    expect(current(page)).to_contain_text(name)


def listed(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".wb-strategy-list select option").all_inner_texts()]


def open_listed(page: Any, name: str) -> None:
    option = next(t for t in listed(page) if t.startswith(f"{name} · "))
    page.locator(".wb-strategy-list select").select_option(label=option)
    page.locator(".wb-strategy-open button").click()
    expect(current(page)).to_contain_text(name)


def versions(page: Any) -> list[str]:
    return page.locator(".wb-version-list select option").all_inner_texts()


def url_strategy(page: Any, *, besides: str | None = None) -> str:
    """The URL's ``strategy`` (after waiting for one other than ``besides``; for none when
    ``besides`` is '')."""
    if besides == "":
        expect(page).not_to_have_url(re.compile(r"strategy="))
    elif besides is not None:
        expect(page).to_have_url(re.compile(rf"strategy=(?!{besides})[0-9a-f-]{{36}}"))
    return (parse_qs(urlparse(page.url).query).get("strategy") or [""])[0]


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


# -- the tests ----------------------------------------------------------------------------
def test_save_reload_reopens_the_strategy_and_an_older_version(tab: Tab,
                                                               artifacts_dir: Path) -> None:
    """Issue #17 item 1: after "Save new version" and a reload the canvas reset to the
    starter."""
    page = tab.open()
    start_from(page, "rsi reversion")
    page.wait_for_selector('[data-testid="node-rsi"]')
    save(page, re.compile(r"Saved RSI.* v1"))
    name = current(page).locator("strong").inner_text()
    sid = url_strategy(page, besides="none")
    rename(page, unique("Reversion"))
    name = current(page).locator("strong").inner_text()
    save(page, f"No changes since {name} v1")
    note(page, "renamed")
    save(page, f"Saved {name} v2")
    assert url_strategy(page) == sid
    tab.shot(artifacts_dir, "saved")

    page.reload()
    page.wait_for_selector('[data-testid="node-rsi"]')  # not the SMA starter
    expect(current(page)).to_contain_text(f"{name} · v2")
    assert page.locator('[data-testid="node-fast"]').count() == 0
    assert [v.split(" · ")[0] for v in versions(page)] == ["v2", "v1"]
    assert any(t.startswith(f"{name} · v2 · ") for t in listed(page)), listed(page)
    tab.shot(artifacts_dir, "reopened")

    page.locator(".wb-version-list select").select_option(label=versions(page)[1])
    page.locator(".wb-version-open button").click()
    expect(current(page)).to_contain_text(f"{name} · v1")
    expect(status(page)).to_contain_text(f"Opened {name} v1")


def test_rename_duplicate_and_delete_with_confirmation(tab: Tab, artifacts_dir: Path) -> None:
    page = tab.open()
    start_from(page, "sma crossover")
    save(page, re.compile(r"Saved SMA crossover.* v1"))
    original = url_strategy(page, besides="none")
    name = unique("Golden cross")
    rename(page, name)
    expect(status(page)).to_contain_text(f"Renamed to {name}")
    expect(page.locator(".wb-strategy-list select")).to_contain_text(name)
    tab.shot(artifacts_dir, "renamed")

    page.locator(".wb-strategy-duplicate button").click()
    expect(current(page)).to_contain_text(f"{name} copy · v1")
    copy_id = url_strategy(page, besides=original)
    assert any(t.startswith(f"{name} copy · v1") for t in listed(page))
    assert any(t.startswith(f"{name} · ") for t in listed(page))  # the original stays

    # delete asks first; Cancel keeps it
    page.locator(".wb-strategy-delete button").click()
    confirm = page.locator(".wb-strategy-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"Delete {name} copy?")
    tab.shot(artifacts_dir, "delete-confirmation")
    page.locator(".wb-strategy-delete-cancel button").click()
    expect(confirm).to_be_hidden()
    assert any(t.startswith(f"{name} copy · ") for t in listed(page))
    page.locator(".wb-strategy-delete button").click()
    page.locator(".wb-strategy-delete-confirm button").click()
    expect(status(page)).to_contain_text(f"Deleted {name} copy")
    expect(current(page)).to_contain_text("New strategy")
    assert not any(t.startswith(f"{name} copy · ") for t in listed(page))
    assert url_strategy(page, besides="") == ""
    # archived, not erased: the record and its version are still there
    every = requests.get(tab.served.url + "api/v1/strategies", timeout=30).json()
    (kept,) = [s for s in every if s["id"] == copy_id]
    assert kept["status"] == "archived" and kept["latest_version"]["version"] == 1, kept
    tab.shot(artifacts_dir, "deleted")


def test_blank_canvas_then_save_creates_a_new_strategy(tab: Tab, artifacts_dir: Path) -> None:
    """Issue #17 item 2: saving after "Start from: Blank canvas" wrote the new, unrelated
    graph as the next version of the previously open strategy."""
    page = tab.open()
    start_from(page, "sma crossover")
    save(page, re.compile(r"Saved SMA crossover.* v1"))
    name = unique("Kept")
    rename(page, name)
    note(page, "renamed")
    save(page, f"Saved {name} v2")
    old_id = url_strategy(page, besides="none")

    start_from(page, "Blank canvas")
    expect(page.locator('[data-testid^="node-"]')).to_have_count(0)
    assert url_strategy(page, besides="") == ""
    save(page, re.compile(r"Saved Untitled strategy.* v1"))
    new_id = url_strategy(page, besides=old_id)
    assert new_id and new_id != old_id
    expect(current(page)).to_contain_text("Untitled strategy")
    tab.shot(artifacts_dir, "blank-saved-new")

    open_listed(page, name)  # the old one keeps exactly its two versions
    assert [v.split(" · ")[0] for v in versions(page)] == ["v2", "v1"]
    page.wait_for_selector('[data-testid="node-fast"]')


def test_a_template_clone_can_be_opened(tab: Tab, served: Any, artifacts_dir: Path) -> None:
    title = unique("SMA 101")
    code = f"""
from workbench.governance import compliance, templates
from workbench.records import open_store
from workbench.runs import strategies
from workbench.api import starter
st = open_store()
admin = st.profiles.create(email="admin-{title[-6:]}@t.test", role="admin", plan_tier="premium")
edu = st.profiles.create(email="edu-{title[-6:]}@t.test", role="educator", plan_tier="educator")
lesson = strategies.save_version(st, edu.id, dict(starter("sma_crossover").document), name="Lesson")
sub = templates.submit(st, edu, lesson.version.id, title={title!r},
                       disclaimers=["Simulated results; not investment advice."])
compliance.review(st, admin, sub.review.id, "approve", "ok")
print(sub.template.id)
"""
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT,
                         env=server_env(served.home), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    template_id = out.stdout.split()[-1]
    clone = requests.post(served.url + f"api/v1/templates/{template_id}/clone", timeout=60)
    assert clone.status_code == 201, clone.text
    cloned = clone.json()["name"]

    page = tab.open()
    page.locator(".wb-strategy-search input").fill(cloned)
    page.locator(".wb-strategy-search input").press("Enter")
    expect(page.locator(".wb-strategy-list select option")).to_have_count(1)
    open_listed(page, cloned)
    page.wait_for_selector('[data-testid="node-slow"]')
    assert url_strategy(page, besides="none") == clone.json()["strategy_id"]
    tab.shot(artifacts_dir, "template-clone-opened")


def test_run_labels_show_version_range_and_differing_params(tab: Tab, served: Any,
                                                            artifacts_dir: Path) -> None:
    """Issue #17 item 12: labels showed strategy, symbol, time and a hash."""
    page = tab.open()
    start_from(page, "sma crossover")
    save(page, re.compile(r"Saved SMA crossover.* v1"))
    name = unique("Labelled")
    rename(page, name)
    note(page, "renamed")
    save(page, f"Saved {name} v2")
    sid = url_strategy(page, besides="none")
    page.locator(".wb-run button").click()
    expect(status(page)).to_have_text("Backtest done", timeout=120_000)
    # the same saved version with a sweep's kind of override (slow.window=50 is its own)
    resp = requests.post(served.url + "api/v1/backtests", timeout=60, json={
        "strategy_id": sid, "symbol": "GOOG", "timeframe": "1d", "start": "2010-01-01",
        "end": "2012-01-01", "params": {"fast.window": 5, "slow.window": 50}})
    assert resp.status_code == 202, resp.text
    run_id = resp.json()["id"]
    for _ in range(600):
        state = requests.get(served.url + f"api/v1/backtests/{run_id}", timeout=30).json()
        if state["status"] in ("succeeded", "failed"):
            break
        page.wait_for_timeout(200)
    assert state["status"] == "succeeded", state

    page.locator(".wb-nav .bk-btn", has_text="Results").click()
    picker = page.locator(".wb-run-select select")
    expect(picker).to_contain_text(f"{name} v2 · GOOG 1d · 2010-01-01→2012-01-01 · "
                                   "fast.window=5 · ", timeout=60_000)
    options = picker.locator("option").all_inner_texts()
    whole = next(o for o in options if o.startswith(f"{name} v2 · GOOG 1d · 2004-08-19→"))
    assert "slow.window" not in " ".join(options)
    assert not re.search(r"\b[0-9a-f]{8}\b", whole), whole  # no id hash
    tab.shot(artifacts_dir, "labels-results")

    page.locator(".wb-nav .bk-btn", has_text="Compare").click()
    page.wait_for_selector(".wb-compare-chart canvas", timeout=60_000)
    header = page.locator(".wb-compare-table table thead").inner_text()
    assert "fast.window=5" in header and "2010-01-01→2012-01-01" in header, header
    tab.shot(artifacts_dir, "labels-compare")
