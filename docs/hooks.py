"""mkdocs hooks: the site is built from the sources it documents, never copied by hand.

- ``<!-- readme: ## Heading -->`` in a page becomes that README.md section (its body,
  sub-headings one level up), so the user guide and the README cannot drift apart.
- ``<!-- block-catalog -->`` becomes the catalog's own markdown (workbench/blocks/).
- ``notebooks/*.ipynb`` (and their README as ``notebooks/index.md``) are added to the
  site before mkdocs-jupyter renders them (not executed: they are stored executed and
  nbval checks them in the tests).

A marker naming a README section that does not exist fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!--\s*readme:\s*(#+ .+?)\s*-->")


def readme_section(heading: str) -> str:
    """The body of README.md's section ``heading`` (up to the next heading of its level)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    try:
        start = lines.index(heading)
    except ValueError:
        raise PluginError(f"README.md has no section {heading!r} (a docs page names it)") from None
    body: list[str] = []
    fence = False
    for line in lines[start + 1:]:
        if line.startswith("```"):
            fence = not fence
        if not fence and re.match(rf"#{{1,{level}}} ", line):
            break
        body.append(line[level - 1:] if not fence and line.startswith("#" * (level + 1) + " ")
                    else line)
    return "\n".join(body).strip() + "\n"


def catalog() -> str:
    from workbench.blocks import catalog_markdown

    return catalog_markdown()


def on_page_markdown(markdown: str, **_: Any) -> str:
    markdown = MARKER.sub(lambda m: readme_section(m.group(1)), markdown)
    if "<!-- block-catalog -->" in markdown:
        markdown = markdown.replace("<!-- block-catalog -->", catalog())
    return markdown


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: Any) -> Files:
    folder = ROOT / "notebooks"
    for path in sorted(folder.glob("*.ipynb")):
        # a real file under the checkout (mkdocs-jupyter re-creates it from src_dir)
        files.append(File(f"notebooks/{path.name}", str(ROOT), config["site_dir"],
                          config["use_directory_urls"]))
    files.append(File.generated(config, "notebooks/index.md",
                                content=(folder / "README.md").read_text(encoding="utf-8")))
    return files
