"""Watch a real JupyterLab talk to its kernel: every websocket frame, captured in the browser.

:meth:`LabCapture.start` starts JupyterLab (:func:`utils.jupyter_servers.start_jupyterlab`:
127.0.0.1, a random token, no news feed or update check) in a folder of the caller's, and a
headless Chromium driven by Playwright (:func:`utils.browser.find_chromium`). From then on
it records, from the browser's side:

- every frame of every kernel websocket (``/api/kernels/<id>/channels``), both directions,
  decoded with :func:`utils.jupyter_servers.decode_frame` in the framing that the server
  chose for that connection (:class:`Frame`);
- each such connection's handshake: the subprotocols the browser offered and the one the
  server chose, read from the handshake's own headers through the Chrome DevTools Protocol
  (:class:`Connection`);
- every REST call under ``/api/`` and its response status (:class:`HttpCall`).

``async with lab.phase(name) as phase:`` marks what one user action caused: on leaving the
block it waits (bounded) until every request the browser sent has its reply and nothing has
arrived for a moment, then keeps the frames and calls of that window in ``phase``
(:class:`Phase`). :meth:`LabCapture.close` stops the browser and the server, whatever
happened before.

The API is Playwright's asynchronous one, so that it runs in a notebook (whose kernel runs an
asyncio loop, where Playwright's synchronous API refuses to start): ``await`` it there, or
``asyncio.run`` a coroutine elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .browser import CHROMIUM_ARGS, find_chromium
from .jupyter_servers import RunningServer, decode_frame, start_jupyterlab
from .run_jupyter_kernel import parent_id

__all__ = [
    "SETTINGS",
    "CaptureTimeoutError",
    "Connection",
    "Frame",
    "HttpCall",
    "LabCapture",
    "LabCaptureError",
    "Phase",
]

#: The path of a kernel's websocket, as JupyterLab opens it.
CHANNELS = re.compile(r"/api/kernels/[^/]+/channels")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STEP = 0.05  # s between two looks at what has arrived
#: JupyterLab user settings of every capture, by plugin: no toast asking whether to fetch
#: Jupyter news, and 15 s instead of 1 s for a completion provider to answer (on a busy
#: machine the kernel's complete_reply can take longer than 1 s, and JupyterLab would then
#: drop it and show no completion).
SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/completer-extension/manager": {"providerTimeout": 15_000},
}


class LabCaptureError(RuntimeError):
    """JupyterLab, the browser or the capture did not do what was asked."""


class CaptureTimeoutError(LabCaptureError, TimeoutError):
    """A bounded wait ran out; the message says what was still awaited."""


@dataclass
class Connection:
    """One kernel websocket of the page, as its handshake went."""

    index: int
    url: str
    #: Subprotocols the browser offered (``Sec-WebSocket-Protocol`` of the request).
    offered: list[str] = field(default_factory=list)
    #: The one the server chose (the response's header); ``None``: none, the default protocol.
    chosen: str | None = None
    #: The handshake's HTTP status (101 when the websocket opened); ``None`` until known.
    status: int | None = None
    closed: bool = False
    _reported: set[str] = field(default_factory=set, repr=False)


@dataclass
class Frame:
    """One websocket frame, as the browser sent or received it."""

    connection: Connection
    #: ``"sent"`` (browser to server) or ``"received"`` (server to browser).
    direction: str
    data: str | bytes
    #: ``time.monotonic()`` when the capture heard of it (Playwright reports frames to Python
    #: asynchronously: use it for order and rough intervals only; the headers' ``date`` is
    #: when each sender made its message).
    time: float

    @cached_property
    def message(self) -> dict[str, Any]:
        """The message, decoded in the framing the server chose for this connection.

        Raises
        ------
        LabCaptureError
            If the connection's handshake is not known yet (see :attr:`decodable`).
        """
        if not self.decodable:
            raise LabCaptureError(f"the handshake of {self.connection.url} is not known yet")
        return decode_frame(self.data, self.connection.chosen)

    @property
    def decodable(self) -> bool:
        """True once the connection's handshake (and so its framing) is known."""
        return self.connection.status is not None

    @property
    def msg_type(self) -> str:
        return self.message["header"]["msg_type"]

    @property
    def channel(self) -> str:
        return self.message["channel"]


@dataclass
class HttpCall:
    """One REST call of the page under ``/api/`` and its response."""

    method: str
    path: str
    status: int
    time: float
    #: The request's body as sent (JSON text for the REST API), or ``None``.
    body: str | None = None

    @property
    def route(self) -> str:
        """The path with ids replaced by ``<id>``: ``/api/kernels/<id>/interrupt``."""
        return _UUID.sub("<id>", self.path)


@dataclass
class Phase:
    """What one user action put on the kernel websockets, and the REST calls it made."""

    name: str
    frames: list[Frame] = field(default_factory=list)
    http: list[HttpCall] = field(default_factory=list)
    seconds: float = 0.0  # from entering the block to the end of the settling wait

    def messages(self, direction: str | None = None) -> list[dict[str, Any]]:
        """The decoded messages, in capture order; only one direction if given."""
        return [f.message for f in self.frames if direction in (None, f.direction)]

    def types(self, direction: str) -> list[str]:
        """Message types of one direction, each once, in the order they first appeared."""
        return list(dict.fromkeys(f.msg_type for f in self.frames if f.direction == direction))

    def counts(self) -> Counter[tuple[str, str, str]]:
        """How many messages of each ``(direction, channel, msg_type)``."""
        return Counter((f.direction, f.channel, f.msg_type) for f in self.frames)

    def calls(self, *methods: str) -> list[str]:
        """``"METHOD route"`` of the REST calls (only these methods, if given), in order."""
        return [f"{c.method} {c.route}" for c in self.http if not methods or c.method in methods]


class LabCapture:
    """JupyterLab, a headless Chromium showing it, and a record of the page's kernel traffic.

    Make one with :meth:`start`; stop it with :meth:`close` (or ``async with``).

    Attributes
    ----------
    server
        The JupyterLab server (its ``base`` URL and ``token``).
    page
        The Playwright page: drive JupyterLab with it (``page.keyboard``, ``page.click``).
    frames, connections, http
        Everything captured so far, in order.
    """

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.frames: list[Frame] = []
        self.connections: list[Connection] = []
        self.http: list[HttpCall] = []
        self.page: Any = None
        self._playwright: Any = None
        self._browser: Any = None
        self._handshakes: dict[str, Connection] = {}  # DevTools request id -> connection
        self._closed = False

    @classmethod
    async def start(
        cls, folder: str, *, viewport: tuple[int, int] = (1200, 800), timeout: float = 90.0
    ) -> LabCapture:
        """Start JupyterLab in ``folder`` and a browser page that records its traffic.

        The page is blank: :meth:`open` loads a notebook. JupyterLab's user settings live in
        ``folder/lab-user-settings``, holding :data:`SETTINGS`. Everything started is stopped
        again if a step fails.

        Raises
        ------
        utils.browser.BrowserNotFoundError
            No Chromium (its message says how to install one).
        RuntimeError
            JupyterLab did not answer within ``timeout`` seconds.
        """
        from playwright.async_api import async_playwright

        executable = find_chromium()  # before starting anything
        settings = Path(folder, "lab-user-settings")
        for plugin, values in SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        option = f"--LabApp.user_settings_dir={settings}"
        lab = cls(start_jupyterlab(folder, option, timeout=timeout))
        try:
            lab._playwright = await async_playwright().start()
            lab._browser = await lab._playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, timeout=timeout * 1000
            )
            width, height = viewport
            lab.page = await lab._browser.new_page(viewport={"width": width, "height": height})
            await lab._listen()
        except BaseException:
            await lab.close()
            raise
        return lab

    async def _listen(self) -> None:
        """Record handshakes (DevTools), frames and REST responses of the page."""
        devtools = await self.page.context.new_cdp_session(self.page)
        await devtools.send("Network.enable")
        devtools.on("Network.webSocketCreated", self._on_websocket_created)
        devtools.on("Network.webSocketWillSendHandshakeRequest", self._on_handshake_request)
        devtools.on("Network.webSocketHandshakeResponseReceived", self._on_handshake_response)
        self.page.on("websocket", self._on_websocket)
        self.page.on("response", self._on_response)

    def _connection(self, url: str, side: str) -> Connection:
        """The first connection to ``url`` that ``side`` has not reported yet, or a new one.

        The page (``"page"``) and DevTools (``"devtools"``) each report every websocket once,
        in the order the page opened them; either may come first.
        """
        for connection in self.connections:
            if connection.url == url and side not in connection._reported:
                break
        else:
            connection = Connection(len(self.connections), url)
            self.connections.append(connection)
        connection._reported.add(side)
        return connection

    def _on_websocket_created(self, event: dict[str, Any]) -> None:
        if CHANNELS.search(event["url"]):
            self._handshakes[event["requestId"]] = self._connection(event["url"], "devtools")

    def _on_handshake_request(self, event: dict[str, Any]) -> None:
        if event["requestId"] not in self._handshakes:
            return
        headers = {k.lower(): v for k, v in event["request"]["headers"].items()}
        offered = headers.get("sec-websocket-protocol", "")
        connection = self._handshakes[event["requestId"]]
        connection.offered = [p.strip() for p in offered.split(",") if p.strip()]

    def _on_handshake_response(self, event: dict[str, Any]) -> None:
        if event["requestId"] not in self._handshakes:
            return
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        connection = self._handshakes[event["requestId"]]
        connection.chosen = headers.get("sec-websocket-protocol") or None
        connection.status = event["response"]["status"]

    def _on_websocket(self, websocket: Any) -> None:
        if not CHANNELS.search(websocket.url):
            return
        connection = self._connection(websocket.url, "page")

        def record(direction: str) -> Callable[[str | bytes], None]:
            def on_frame(payload: str | bytes) -> None:
                self.frames.append(Frame(connection, direction, payload, time.monotonic()))

            return on_frame

        websocket.on("framesent", record("sent"))
        websocket.on("framereceived", record("received"))
        websocket.on("close", lambda _ws: setattr(connection, "closed", True))

    def _on_response(self, response: Any) -> None:
        path = urlparse(response.url).path
        if response.url.startswith(self.server.base) and path.startswith("/api/"):
            request = response.request
            call = HttpCall(
                request.method, path, response.status, time.monotonic(), request.post_data
            )
            self.http.append(call)

    async def open(self, path: str, *, timeout: float = 60.0) -> None:
        """Load JupyterLab with the notebook ``path`` (relative to the folder) open.

        Returns once the notebook's first cell editor is on the page; the kernel may still
        be starting (wait for it with :meth:`settle` or :meth:`phase`).

        Raises
        ------
        CaptureTimeoutError
            The notebook did not show within ``timeout`` seconds.
        """
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        url = f"{self.server.base}/lab/tree/{path}?token={self.server.token}"
        try:
            await self.page.goto(url, timeout=timeout * 1000)
            await self.page.wait_for_selector(
                ".jp-Notebook .jp-Cell .cm-content", timeout=timeout * 1000
            )
        except PlaywrightTimeout as error:
            raise CaptureTimeoutError(f"JupyterLab did not show {path} in {timeout} s") from error

    def pending(self) -> list[Frame]:
        """Requests the browser sent on an open connection that have no reply yet.

        A frame of a connection whose handshake is not known yet counts as pending too.
        """
        if not all(f.decodable for f in self.frames):
            return [f for f in self.frames if not f.decodable]
        answered = {
            parent_id(f.message)
            for f in self.frames
            if f.direction == "received" and f.msg_type.endswith("_reply")
        }
        return [
            f
            for f in self.frames
            if f.direction == "sent"
            and not f.connection.closed
            and f.msg_type.endswith("_request")
            and f.message["header"]["msg_id"] not in answered
        ]

    async def wait_for(
        self, predicate: Callable[[], bool], *, timeout: float = 30.0, what: str = "a condition"
    ) -> None:
        """Let the page run until ``predicate()`` is true.

        Raises
        ------
        CaptureTimeoutError
            Naming ``what`` if it is still false after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise CaptureTimeoutError(f"no {what} within {timeout} s")
            await asyncio.sleep(_STEP)

    async def settle(
        self,
        until: Callable[[], bool] | None = None,
        *,
        quiet: float = 1.0,
        timeout: float = 30.0,
    ) -> None:
        """Wait until ``until()`` holds, every request is answered, and ``quiet`` s pass silent.

        Raises
        ------
        CaptureTimeoutError
            After ``timeout`` seconds, naming the condition or the requests still unanswered.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            last = max((f.time for f in self.frames), default=0.0)
            waiting = self.pending()
            if (until is None or until()) and not waiting and now - last >= quiet:
                return
            if now > deadline:
                if until is not None and not until():
                    raise CaptureTimeoutError(f"the awaited condition did not hold in {timeout} s")
                names = ", ".join(f.msg_type if f.decodable else "?" for f in waiting) or "none"
                raise CaptureTimeoutError(
                    f"no quiet moment of {quiet} s within {timeout} s; unanswered: {names}"
                )
            await asyncio.sleep(_STEP)

    def phase(
        self,
        name: str,
        until: Callable[[Phase], bool] | None = None,
        *,
        quiet: float = 1.0,
        timeout: float = 30.0,
    ) -> _PhaseBlock:
        """``async with lab.phase(name) as phase:``: capture what the block's actions cause.

        Leaving the block waits with :meth:`settle` (``until`` receives the phase as
        captured so far), then fills ``phase``; the block's own error, if any, wins.
        """
        return _PhaseBlock(self, Phase(name), until, quiet, timeout)

    async def close(self) -> None:
        """Close the browser and Playwright, then stop the server (each step runs regardless)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._browser is not None:
                await asyncio.wait_for(self._browser.close(), 30)
        finally:
            try:
                if self._playwright is not None:
                    await asyncio.wait_for(self._playwright.stop(), 30)
            finally:
                self.server.stop()

    async def __aenter__(self) -> LabCapture:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class _PhaseBlock:
    """The ``async with`` of :meth:`LabCapture.phase`."""

    def __init__(
        self,
        lab: LabCapture,
        phase: Phase,
        until: Callable[[Phase], bool] | None,
        quiet: float,
        timeout: float,
    ) -> None:
        self.lab, self.phase, self.until = lab, phase, until
        self.quiet, self.timeout = quiet, timeout

    async def __aenter__(self) -> Phase:
        self.frames_from, self.http_from = len(self.lab.frames), len(self.lab.http)
        self.started = time.monotonic()
        return self.phase

    def _fill(self) -> None:
        self.phase.frames = self.lab.frames[self.frames_from :]
        self.phase.http = self.lab.http[self.http_from :]

    async def __aexit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is None:
            until = self.until

            def done() -> bool:
                self._fill()
                return until is None or until(self.phase)

            await self.lab.settle(done, quiet=self.quiet, timeout=self.timeout)
        self._fill()
        self.phase.seconds = time.monotonic() - self.started
