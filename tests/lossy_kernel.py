"""A kernel whose ``status: idle`` after an execution never reaches its clients.

It stands for what a ZeroMQ publisher does to a subscriber that falls behind: it drops
messages. Used by tests/test_get_messages.py to check that ``get_messages`` names the loss.
"""

from __future__ import annotations

from typing import Any

from kernels.echo import EchoKernel


class LosingIdleKernel(EchoKernel):
    """The echo kernel, minus the ``idle`` that ends each ``execute_request``."""

    implementation = "losing-idle"

    def _publish_status(self, status: str, channel: str, parent: Any = None) -> None:
        request = parent or self.get_parent(channel)
        if status == "idle" and request.get("header", {}).get("msg_type") == "execute_request":
            return
        super()._publish_status(status, channel, parent)
