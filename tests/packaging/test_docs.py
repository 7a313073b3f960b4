"""The documentation site (issue #18): built with --strict from the sources it documents,
and the API reference documents every parameter and every ``settings`` key."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from griffe import Docstring, Parser

import workbench.api as api
from workbench.graph.models import FillTiming, Settings, Sizing, SizingMode

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = (api.backtest, api.sweep, api.walkforward)


def _parameters(fn: typing.Callable[..., object]) -> dict[str, str]:
    sections = Docstring(inspect.getdoc(fn) or "", parser=Parser.numpy).parse()
    return {p.name: p.description for s in sections if s.kind.value == "parameters"
            for p in s.value}


@pytest.mark.parametrize("fn", DOCUMENTED, ids=lambda f: f.__name__)
def test_every_parameter_is_documented(fn) -> None:
    documented = _parameters(fn)
    signature = set(inspect.signature(fn).parameters)
    assert signature - set(documented) == set(), "undocumented parameters"
    assert set(documented) - signature == set(), "documented parameters that do not exist"
    assert all(text.strip() for text in documented.values())


@pytest.mark.parametrize("fn", DOCUMENTED, ids=lambda f: f.__name__)
def test_every_settings_key_is_documented(fn) -> None:
    text = _parameters(fn)["settings"]
    keys = [*Settings.model_fields, *(f"sizing.{k}" for k in Sizing.model_fields)]
    values = [*typing.get_args(FillTiming), *typing.get_args(SizingMode)]
    missing = [k for k in keys + values if f"``{k}``" not in text and f'``"{k}"``' not in text]
    assert missing == [], f"settings keys/values not in {fn.__name__}'s docstring"


@pytest.mark.slow
def test_docs_site_builds_strict_with_guide_reference_catalog_and_notebooks(tmp_path) -> None:
    from workbench.blocks import BLOCKS

    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
    api_page = (site / "reference" / "api" / "index.html").read_text()
    for fn in DOCUMENTED:
        assert f"workbench.api.{fn.__name__}" in api_page
        for name in inspect.signature(fn).parameters:
            assert f"<code>{name}</code>" in api_page, (fn.__name__, name)
    blocks_page = (site / "reference" / "blocks" / "index.html").read_text()
    assert "<!-- block-catalog -->" not in blocks_page
    missing = [b for b in BLOCKS if f"<code>{b}</code>" not in blocks_page]
    assert missing == []
    guide = (site / "guide" / "paper" / "index.html").read_text()
    assert "readme:" not in guide and "papermill" in guide
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = site / "notebooks" / nb.stem / "index.html"
        assert page.is_file(), nb.name
        assert "jp-Cell" in page.read_text() or "jupyter-wrapper" in page.read_text()


def test_a_docs_page_naming_a_missing_readme_section_fails_the_build() -> None:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.pop(0)
    from mkdocs.exceptions import PluginError

    assert "papermill" in hooks.readme_section("## Paper trading: scheduled papermill notebooks")
    with pytest.raises(PluginError, match="no section"):
        hooks.on_page_markdown("<!-- readme: ## Not a section -->")
