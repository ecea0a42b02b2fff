"""A Sphinx extension of this book: a picture that a notebook output draws keeps its description.

The book's pictures are SVG outputs (``utils.diagrams``) whose ``<title>`` says what they show.
MyST-NB writes such an output to a file and shows it as an image with no alternative text;
this extension gives every such image the ``<title>`` of its SVG as its ``alt``. The pictures
therefore have one description, kept in the notebook's output, which the output check compares.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S)


def add_alt_text(app: Sphinx, doctree: nodes.document) -> None:
    """Set ``alt`` of every SVG image without one to the title inside the SVG."""
    docname = app.env.docname
    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        if image.get("alt") or not uri.endswith(".svg") or "://" in uri:
            continue
        for path in _candidates(app, uri, docname):
            try:
                found = TITLE.search(path.read_text(encoding="utf-8"))
            except OSError:
                continue
            if found:
                image["alt"] = html.unescape(found.group(1)).strip()
            break


def _candidates(app: Sphinx, uri: str, docname: str) -> list[Path]:
    """Where the SVG of ``uri`` may be: MyST-NB writes outputs beside the HTML build folder."""
    return [
        Path(app.env.relfn2path(uri, docname)[1]),
        Path(app.srcdir) / uri.lstrip("/"),
        Path(app.outdir).parent / "jupyter_execute" / Path(uri).name,
    ]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", add_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
