"""The block catalog: the single source of truth for block types, ports and params.

>>> from workbench.blocks import catalog_json, get_block
>>> get_block("sma").param("window").default
20
"""

from __future__ import annotations

from workbench.blocks.catalog import (
    BLOCKS,
    CATALOG_SCHEMA,
    catalog_json,
    catalog_markdown,
    get_block,
    suggest,
)
from workbench.blocks.spec import Block, Context, Param, Port, port_compatible

__all__ = ["BLOCKS", "CATALOG_SCHEMA", "Block", "Context", "Param", "Port", "catalog_json",
           "catalog_markdown", "get_block", "port_compatible", "suggest"]
