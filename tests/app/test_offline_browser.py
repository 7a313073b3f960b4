"""The app with the network blocked, by URL, in the dark, on a phone and on a tablet
(#17 items 7 and 15): headless Debian Chromium against a real ``workbench serve``.

Every context here aborts any request that is not for 127.0.0.1 and records it; each
test asserts that none was even attempted, so a CDN link anywhere fails the test.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.app.pages import backtest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TIMEOUT = 90_000


class Offline:
    """A browser context that can reach 127.0.0.1 only, and says what else was tried."""

    def __init__(self, browser: Any, **context: Any) -> None:
        self.attempted: list[str] = []
        self.context = browser.new_context(**context)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)

    def _route(self, route: Any) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            self.attempted.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def run_id(served: Any) -> str:
    """One finished backtest (through the API) for the results page and the phone cards."""
    return str(backtest(served.url, {"strategy": "sma_crossover", "symbol": "GOOG",
                                     "timeframe": "1d"})["id"])


@pytest.fixture
def offline(browser: Any, artifacts_dir: Path, request: pytest.FixtureRequest
            ) -> Iterator[Any]:
    made: list[Offline] = []

    def make(**context: Any) -> Offline:
        o = Offline(browser, **context)
        made.append(o)
        return o

    yield make
    for o in made:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            o.page.screenshot(path=str(artifacts_dir / f"app-FAILED-{request.node.name}.png"))
        o.close()
        assert o.attempted == [], f"requests to other hosts were attempted: {o.attempted}"


def search(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_charts_render_with_the_network_blocked(offline: Any, served: Any, run_id: str,
                                                artifacts_dir: Path) -> None:
    tab = offline(viewport={"width": 1440, "height": 1000})
    page = tab.page
    # the results page, deep-linked to the run: its equity chart is a bokeh canvas
    page.goto(f"{served.url}?page=results&run={run_id}")
    page.locator(".wb-nav .bk-btn.bk-active", has_text="Results").wait_for()
    page.locator(".wb-run-select select").wait_for()
    # the picker shows the run's label (strategy, series, range; no id since labels are
    # human) and the address keeps the run
    label = requests.get(f"{served.url}api/v1/backtests/{run_id}", timeout=60).json()["label"]
    assert page.locator(".wb-run-select select").input_value().startswith(label)
    assert f"run={run_id}" in page.url
    page.locator("canvas").first.wait_for()
    box = page.locator("canvas").first.bounding_box()
    assert box is not None and box["width"] > 300, box
    page.screenshot(path=str(artifacts_dir / "app-offline-results.png"), full_page=True)
    # the canvas page: run, and the results panel draws the equity curve
    page.goto(served.url)
    page.wait_for_selector('[data-testid="canvas-root"]')
    page.locator('[data-testid="run-button"]').click()
    page.locator('[data-testid="metric-total_return"]').wait_for(timeout=180_000)
    page.wait_for_selector(".wb-equity-chart canvas", timeout=TIMEOUT)
    page.screenshot(path=str(artifacts_dir / "app-offline-canvas-equity.png"), full_page=True)


def test_pages_have_urls_and_the_back_button_works(offline: Any, served: Any, run_id: str,
                                                   artifacts_dir: Path) -> None:
    page = offline(viewport={"width": 1440, "height": 1000}).page
    page.goto(served.url)
    page.wait_for_selector(".wb-nav .bk-btn")
    assert "page" not in search(page)  # "/" is the canvas page
    page.locator(".wb-nav .bk-btn", has_text="Results").click()
    page.wait_for_function("() => location.search.includes('page=results')")
    page.wait_for_function("() => /run=[0-9a-f-]{36}/.test(location.search)")
    page.locator(".wb-nav .bk-btn", has_text="Plan usage").click()
    page.wait_for_function("() => location.search === '?page=plan-usage'")
    page.go_back()
    page.locator(".wb-nav .bk-btn.bk-active", has_text="Results").wait_for()
    assert search(page)["page"] == ["results"]
    page.go_forward()
    page.locator(".wb-nav .bk-btn.bk-active", has_text="Plan usage").wait_for()
    assert search(page)["page"] == ["plan-usage"]
    page.screenshot(path=str(artifacts_dir / "app-url-back-forward.png"), full_page=True)
    # back to the canvas page: re-rendered, it loads nothing off-host either (a Panel
    # Divider there fetched its stylesheet from cdn.holoviz.org)
    page.go_back()
    page.locator(".wb-nav .bk-btn.bk-active", has_text="Results").wait_for()
    page.go_back()
    page.wait_for_selector('[data-testid="canvas-root"]', timeout=TIMEOUT)
    assert "page" not in search(page)
    # a deep link opens its page
    page.goto(served.url + "?page=notifications")
    page.locator(".wb-nav .bk-btn.bk-active", has_text="Notifications").wait_for()


def test_dark_color_scheme_gives_a_dark_app(offline: Any, served: Any,
                                            artifacts_dir: Path) -> None:
    page = offline(viewport={"width": 1440, "height": 1000}, color_scheme="dark").page
    page.goto(served.url + "?page=plan-usage")
    page.locator(".wb-nav .bk-btn.bk-active", has_text="Plan usage").wait_for()
    rgb = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    r, g, b = (int(v) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
    assert max(r, g, b) < 60, rgb
    page.screenshot(path=str(artifacts_dir / "app-dark.png"), full_page=True)
    light = offline(viewport={"width": 1440, "height": 1000}, color_scheme="light").page
    light.goto(served.url + "?page=plan-usage")
    light.locator(".wb-nav .bk-btn.bk-active", has_text="Plan usage").wait_for()
    assert light.evaluate("() => getComputedStyle(document.body).backgroundColor") != rgb


# every bokeh figure on the page, as BokehJS holds it: title and background colours
FIGURES_JS = """() => {
  const out = [];
  for (const doc of (window.Bokeh ? window.Bokeh.documents : [])) {
    const models = doc._all_models ? [...doc._all_models.values()] : [...doc.all_models];
    for (const m of models) {
      if (m.x_range && m.renderers && "background_fill_color" in m) {
        out.push({title: m.title && m.title.text, bg: m.background_fill_color,
                  border: m.border_fill_color});
      }
    }
  }
  return out;
}"""


def _dark(color: str | None) -> bool:
    """``#rrggbb`` (or a CSS name bokeh keeps as given) that is dark."""
    text = str(color or "").lower()
    if not text.startswith("#") or len(text) < 7:
        return False
    return max(int(text[i:i + 2], 16) for i in (1, 3, 5)) < 60


def _figures_are(page: Any, dark: bool, titles: set[str]) -> list[dict[str, Any]]:
    """Wait until every figure named in ``titles`` is drawn in the scheme ``dark``."""
    page.wait_for_function(f"""() => {{
      const figs = ({FIGURES_JS})().filter(f => {sorted(titles)!r}.includes(f.title));
      const dark = c => /^#/.test(c || "") && Math.max(...[1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16))) < 60;
      return figs.length >= {len(titles)} && figs.every(f => dark(f.bg) === {str(dark).lower()}
                                                       && dark(f.border) === {str(dark).lower()});
    }}""")
    figs = [f for f in page.evaluate(FIGURES_JS) if f["title"] in titles]
    return list(figs)


def _rendered_corner(page: Any, selector: str, artifacts: Path, name: str) -> tuple[int, ...]:
    """The colour the browser painted at the top-left corner of a chart (its border)."""
    from PIL import Image

    path = artifacts / name
    page.locator(selector).first.screenshot(path=str(path))
    with Image.open(path) as img:
        return tuple(img.convert("RGB").getpixel((3, 3)))


def test_charts_follow_the_dark_scheme_and_switch_back(offline: Any, served: Any, run_id: str,
                                                      artifacts_dir: Path) -> None:
    """#17 item 1: the page went dark but its bokeh charts stayed white."""
    page = offline(viewport={"width": 1440, "height": 1000}, color_scheme="dark").page
    page.goto(f"{served.url}?page=results&run={run_id}")
    page.wait_for_selector(".wb-equity-chart canvas")
    charts = {"Equity", "Drawdown"}
    for fig in _figures_are(page, True, charts):
        assert _dark(fig["bg"]) and _dark(fig["border"]), fig
    r, g, b = _rendered_corner(page, ".wb-equity-chart", artifacts_dir, "app-dark-equity.png")
    assert max(r, g, b) < 60, (r, g, b)  # painted dark, not only set on a model
    card = page.locator(".wb-metric").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert max(int(v) for v in card[card.index("(") + 1:card.index(")")].split(",")[:3]) < 60
    # a chart drawn later (a tab opened now) is dark from the start
    page.locator(".wb-result-tabs").get_by_text("Price and trades").click()
    page.wait_for_selector(".wb-price-chart canvas")
    _figures_are(page, True, {"Price and trades"})
    page.screenshot(path=str(artifacts_dir / "app-dark-results.png"), full_page=True)
    # (the Drawdown tab is closed now: its figure left the document until reopened)
    charts = {"Equity", "Price and trades"}
    # the OS switches to light: the same charts follow, with no reload
    page.emulate_media(color_scheme="light")
    _figures_are(page, False, charts)
    r, g, b = _rendered_corner(page, ".wb-equity-chart", artifacts_dir, "app-light-equity.png")
    assert min(r, g, b) > 200, (r, g, b)
    # back to dark, then a chart built afterwards (Compare) is drawn dark from the start
    page.emulate_media(color_scheme="dark")
    _figures_are(page, True, charts)
    page.locator(".wb-nav .bk-btn", has_text="Compare").click()
    page.wait_for_selector(".wb-compare-chart canvas")
    _figures_are(page, True, {"Equity (1.0 = start)"})
    page.screenshot(path=str(artifacts_dir / "app-dark-compare.png"), full_page=True)


def no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    inner = page.evaluate("() => window.innerWidth")
    assert width <= inner, (width, inner)


def test_phone_shows_cards_alerts_not_the_desktop(offline: Any, served: Any, run_id: str,
                                                  artifacts_dir: Path) -> None:
    page = offline(viewport={"width": 390, "height": 844}, is_mobile=True,
                   has_touch=True).page
    page.goto(served.url)
    page.locator(".wb-mobile").wait_for()
    card = page.locator(".wb-scard", has_text="SMA crossover").first
    card.wait_for()
    assert "Return" in card.inner_text() and "%" in card.inner_text()
    assert page.locator(".wb-nav").count() == 0  # not the desktop layout
    assert page.locator('[data-testid="flow"]').count() == 0
    alerts = page.locator(".wb-mobile-alert")
    alerts.first.wait_for()  # the finished backtest's notification
    before = alerts.count()
    no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / "app-phone.png"), full_page=True)
    alerts.first.locator(".wb-ack button, button").first.click()
    page.wait_for_function(f"() => document.querySelectorAll('.wb-mobile-alert').length "
                           f"< {before}")


def test_tablet_stacks_panels_with_the_canvas_full_width(offline: Any, served: Any,
                                                         artifacts_dir: Path) -> None:
    page = offline(viewport={"width": 820, "height": 1180}, is_mobile=True,
                   has_touch=True).page
    page.goto(served.url)
    flow = page.locator('[data-testid="flow"]')
    flow.wait_for()
    page.locator(".wb-start-from").wait_for()
    nav = page.locator(".wb-nav").bounding_box()
    start = page.locator(".wb-start-from").bounding_box()
    canvas = page.locator(".wb-main").bounding_box()
    assert nav is not None and start is not None and canvas is not None
    assert nav["width"] > 700  # the navigation is a row across the top
    assert start["y"] > nav["y"] + nav["height"] - 1  # the controls are under it
    assert canvas["width"] > 780, canvas
    root = page.locator('[data-testid="flow"]').bounding_box()
    assert root is not None and root["y"] > start["y"]  # the canvas under the controls
    no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / "app-tablet.png"), full_page=True)
