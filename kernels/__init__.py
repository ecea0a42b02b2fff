"""Example kernels written for the book, on ``ipykernel.kernelbase.Kernel``.

- :mod:`kernels.echo`: sends back whatever it is given.
- :mod:`kernels.sqlite`: runs SQL on an in-memory sqlite3 database.
- :mod:`kernels.misbehaving`: kernels that break the protocol on purpose, to test clients.
"""

from __future__ import annotations

import sys
from typing import Any


def kernelspec(module: str, display_name: str, language: str, *args: str) -> dict[str, Any]:
    """The ``kernel.json`` of a kernel started as ``python -m <module> [args] -f <file>``.

    ``{connection_file}`` is the placeholder the kernel manager replaces with the path of
    the connection file it writes.
    """
    argv = [sys.executable, "-m", module, *args, "-f", "{connection_file}"]
    return {"argv": argv, "display_name": display_name, "language": language}
