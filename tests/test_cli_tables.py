"""Issue #18: human CLI listings are rich tables (one printer, ``workbench.cli._tables``);
``--json`` output is the JSON cleaner's, byte for byte."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.jsonable import plain

runner = CliRunner()


def run(*args: str) -> tuple[str, str]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """Header words and the rows (split on runs of 2+ spaces) of a printed table."""
    import re

    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    assert set(lines[1]) == {"─"}, lines  # the rule under the header
    split = [re.split(r"\s{2,}", line.strip()) for line in lines]
    return split[0], split[2:]


def test_data_list_is_a_table_and_json_is_unchanged() -> None:
    out, _ = run("data", "synth", "--symbol", "BTCUSD", "--timeframe", "1h", "--bars", "50")
    header, rows = table(out)
    assert header[:4] == ["symbol", "timeframe", "written", "rows"]
    assert rows == [["BTCUSD", "1h", "50", "50", "2020-01-01T00:00:00Z", "2020-01-03T01:00:00Z"]]
    run("data", "synth", "--symbol", "ETHUSD", "--timeframe", "1d", "--bars", "7")
    header, rows = table(run("data", "list")[0])
    assert header == ["symbol", "tf", "rows", "first", "last"]
    assert [r[:3] for r in rows] == [["BTCUSD", "1h", "50"], ["ETHUSD", "1d", "7"]]
    from workbench.data.cache import open_cache

    want = json.dumps(plain(open_cache().list()), indent=2, allow_nan=False) + "\n"
    assert run("data", "list", "--json")[0] == want


def test_strategies_list_cells_are_text_not_markup_and_never_folded() -> None:
    long_name = "A strategy with a very long name " * 5
    run("strategies", "create", long_name, "--tag", "[bold]trend")
    run("strategies", "create", "Short", "--tag", "x")
    out, _ = run("strategies", "list")
    header, rows = table(out)
    assert header == ["slug", "status", "visibility", "id", "tags"]
    assert len(rows) == 2
    slugs = {r[0] for r in rows}
    assert "short" in slugs and any(len(s) > 150 for s in slugs)  # piped: one line per row
    assert "[bold]trend" in out  # shown as typed, not eaten as rich markup
    listed = json.loads(run("strategies", "list", "--json")[0])
    assert {s["slug"] for s in listed} == slugs


def test_keys_list_table_shows_hints_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_KEY_SECRET", "s3cret-value-42")
    run("keys", "add", "kraken", "--api-key", "KEYA1234567890ZZZZ", "--label", "main")
    out, _ = run("keys", "list")
    header, rows = table(out)
    assert header == ["id", "exchange", "hint", "label", "last used (UTC)"]
    assert rows[0][1:] == ["kraken", "KEYA…ZZZZ", "main", "never"]
    assert "s3cret" not in out and "1234567890" not in out


def test_usage_is_a_table_with_used_over_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_LIMIT_FREE_PAPER_TICKS", "-1")
    out, _ = run("usage")
    lines = out.splitlines()
    assert lines[0].startswith("plan: free")
    header, rows = table("\n".join(lines[1:]))
    assert header == ["metric", "used / limit", "left"]
    by_metric = {r[0]: r[1:] for r in rows}
    assert by_metric["backtests"] == ["0 / 20", "20"]
    assert by_metric["paper_ticks"] == ["0 / unlimited", "-"]


def test_empty_listings_say_so_on_stderr_and_print_no_table() -> None:
    for args, message in ((["templates", "list"], "no templates"),
                          (["strategies", "list"], "no strategies yet"),
                          (["paper", "list"], "no paper runs"),
                          (["data", "list"], "cache is empty")):
        out, err = run(*args)
        assert out == "" and message in err, args
