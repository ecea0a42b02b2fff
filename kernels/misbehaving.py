"""Kernels that break the protocol on purpose, to see how clients cope.

- :class:`SilentKernel` takes an ``execute_request`` and never answers it.
- :class:`DyingKernel` exits in the middle of an execution.
- :class:`MalformedKernel` publishes an ``execute_result`` whose content lacks ``data``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ipykernel.kernelapp import IPKernelApp

from kernels.echo import EchoKernel


class SilentKernel(EchoKernel):
    """Goes ``busy`` and stays busy: no output, no reply, no ``idle``."""

    implementation = "silent"

    async def do_execute(self, code: str, silent: bool, *args: Any, **kwargs: Any) -> dict:
        await asyncio.Event().wait()  # an event nobody sets
        raise AssertionError("unreachable")


class DyingKernel(EchoKernel):
    """Echoes the code, then the process exits before replying."""

    implementation = "dying"

    async def do_execute(self, code: str, silent: bool, *args: Any, **kwargs: Any) -> dict:
        self.send_response(self.iopub_socket, "stream", {"name": "stdout", "text": "bye\n"})
        await asyncio.sleep(0.5)  # let the stream leave before the end
        os._exit(1)


class MalformedKernel(EchoKernel):
    """Replies normally, but its ``execute_result`` has no ``data`` field."""

    implementation = "malformed"

    async def do_execute(self, code: str, silent: bool, *args: Any, **kwargs: Any) -> dict:
        content = {"execution_count": self.execution_count, "metadata": {}, "value": code}
        self.send_response(self.iopub_socket, "execute_result", content)
        return await super().do_execute(code, silent=True)  # the echo kernel's ok reply, no echo


if __name__ == "__main__":
    import sys

    classes = {"silent": SilentKernel, "dying": DyingKernel, "malformed": MalformedKernel}
    IPKernelApp.launch_instance(argv=sys.argv[2:], kernel_class=classes[sys.argv[1]])
