"""The reference pages: the cheat sheet lists every message type once, on its channel, with
the spec section utils.spec gives it; the glossary defines the terms the pages link to."""

from __future__ import annotations

import json
import re
from pathlib import Path

from utils.protocol import MESSAGE_TYPES
from utils.spec import ANCHORS, SECTION_OF, SPEC_URL

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ROW = re.compile(r"^\| \[`(\w+)`\]\(" + re.escape(SPEC_URL) + r"#([\w-]+)\)")
SPEC_LINK = re.compile(re.escape(SPEC_URL) + r"#([\w-]+)")
TERM = re.compile(r"\{term\}`([^`<]+?)(?: <([^>]+)>)?`")


def markdown(page: Path) -> str:
    cells = json.loads(page.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_the_cheat_sheet_has_every_type_once_on_its_channel() -> None:
    text = markdown(NOTEBOOKS / "cheat-sheet.ipynb")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    found: dict[str, tuple[str, str]] = {}
    for section in sections:
        channel = section.split(":")[0].lower()
        for line in section.splitlines():
            match = ROW.match(line)
            if match:
                assert match.group(1) not in found, f"{match.group(1)} is listed twice"
                found[match.group(1)] = (channel, match.group(2))
    assert {t: c for t, (c, _) in found.items()} == {
        t: channel for channel, types in MESSAGE_TYPES.items() for t in types
    }
    assert {t: a for t, (_, a) in found.items()} == SECTION_OF


def test_every_link_into_the_spec_names_a_section_that_exists() -> None:
    wrong = {
        (page.relative_to(ROOT).as_posix(), anchor)
        for page in NOTEBOOKS.rglob("*.ipynb")
        for anchor in SPEC_LINK.findall(markdown(page))
        if anchor not in ANCHORS
    }
    assert wrong == set()


def test_the_glossary_has_thirty_terms_and_pages_use_them() -> None:
    glossary = markdown(NOTEBOOKS / "glossary.ipynb")
    terms = re.findall(r"^(\S[^\n]*)\n  \S", glossary.split("```{glossary}")[1], flags=re.M)
    assert len(terms) >= 30
    used = {
        " ".join((target or name).split()).lower()  # a term may wrap across lines
        for page in NOTEBOOKS.rglob("*.ipynb")
        if page.name != "glossary.ipynb"
        for name, target in TERM.findall(markdown(page))
    }
    assert used, "no page links to the glossary"
    assert used <= {t.lower() for t in terms}  # the build would fail too; this names them
