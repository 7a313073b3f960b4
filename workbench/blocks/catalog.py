"""The block registry and its JSON form (what every front end renders the palette from)."""

from __future__ import annotations

import difflib
from typing import Any

from workbench.blocks import candlesticks, chartpatterns, indicators, logic, predict, signals
from workbench.blocks.spec import CATEGORIES, PORT_TYPES, Block
from workbench.errors import UnknownNameError

CATALOG_SCHEMA = "workbench.blocks/1"

BLOCKS: dict[str, Block] = {b.type: b for b in (*indicators.BLOCKS, *logic.BLOCKS, *signals.BLOCKS,
                                                 *predict.BLOCKS, *candlesticks.BLOCKS,
                                                 *chartpatterns.BLOCKS)}


def get_block(block_type: str) -> Block:
    """The block declared under ``block_type``; unknown names raise with a suggestion."""
    try:
        return BLOCKS[block_type]
    except KeyError:
        raise UnknownNameError.build("block type", block_type, list(BLOCKS)) from None


def suggest(block_type: str) -> str | None:
    """The closest known block type, for "did you mean" messages."""
    close = difflib.get_close_matches(block_type, list(BLOCKS), n=1)
    return close[0] if close else None


def catalog_json() -> dict[str, Any]:
    """The catalog as the ``workbench.blocks/1`` document (see notes/contracts.md)."""
    return {
        "schema": CATALOG_SCHEMA,
        "categories": [{"id": cid, "label": label} for cid, label in CATEGORIES],
        "port_types": list(PORT_TYPES),
        "blocks": [b.to_json() for b in BLOCKS.values()],
    }


def catalog_markdown() -> str:
    """A Markdown reference of every block (ports, params with bounds), for the docs."""
    doc = catalog_json()
    lines = ["# Block reference", "", "Generated from the catalog (`workbench blocks --markdown`).", ""]
    for cat in doc["categories"]:
        lines += [f"## {cat['label']}", ""]
        for b in (b for b in doc["blocks"] if b["category"] == cat["id"]):
            lines += [f"### `{b['type']}` — {b['label']}", "", b["doc"], ""]
            for kind in ("inputs", "outputs"):
                if b[kind]:
                    ports = "; ".join(f"`{p['name']}` ({p['type']}): {p['doc']}" for p in b[kind])
                    lines += [f"- {kind}: {ports}"]
            for p in b["params"]:
                bounds = f", {p['min']:g}..{p['max']:g}" if p["min"] is not None and p["max"] is not None else ""
                choices = f", one of {', '.join(p['choices'])}" if p["choices"] else ""
                lines += [f"- param `{p['name']}` ({p['type']}, default `{p['default']}`{bounds}{choices}): {p['doc']}"]
            lines.append("")
    return "\n".join(lines)
