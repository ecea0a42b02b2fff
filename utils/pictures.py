"""The book's fixed pictures: architecture, sockets, states, frames, gateway.

Each function returns a :class:`utils.diagrams.Drawing` drawn with :func:`utils.diagrams.boxes`.
What they draw is shown live where the pages use them: the socket types on the intro page, the
frames on the wire pages, the states on the iopub status page. Pictures of one capture (a
sequence of messages) are drawn by the pages themselves, with
:func:`utils.diagrams.sequence_from_record`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .diagrams import Box, Drawing, Link, boxes

__all__ = [
    "architecture",
    "channels",
    "frame_stack",
    "gateway_hops",
    "kernel_states",
]

CLIENT = {"fill": "#e3f2fd", "stroke": "#1565c0"}
SERVER = {"fill": "#e8f5e9", "stroke": "#2e7d32"}
KERNEL = {"fill": "#fff3e0", "stroke": "#e65100"}
FRAME = {"fill": "#fafafa", "stroke": "#78909c", "frame": True}


def architecture() -> Drawing:
    """Who talks to the kernel: the browser through jupyter_server, other clients directly."""
    items = [
        Box("browser", "browser\nJupyterLab", 10, 60, 170, 60, **CLIENT),
        Box(
            "server", "jupyter_server\nowns kernels, relays messages", 250, 60, 240, 60, **SERVER
        ),  # fmt: skip
        Box("kernel", "kernel process\nipykernel, IRkernel, ...", 580, 115, 170, 70, **KERNEL),
        Box(
            "script", "a client in Python\nnbclient, jupyter console", 250, 180, 240, 60, **CLIENT
        ),  # fmt: skip
    ]
    links = [
        Link("browser", "server", "websocket", "websocket", both=True),
        Link("server", "kernel", "ZeroMQ", "shell", both=True),
        Link("script", "kernel", "ZeroMQ", "shell", both=True),
    ]
    return boxes(
        items,
        links,
        title="Who talks to a kernel, and how",
        alt=(
            "The browser running JupyterLab never speaks ZeroMQ: it exchanges the kernel's "
            "messages with jupyter_server over one websocket, and jupyter_server talks to the "
            "kernel process over four ZeroMQ channels (shell, iopub, stdin and control; it "
            "watches the process instead of the heartbeat). A Python client such as nbclient "
            "or jupyter console connects to the kernel's channels directly."
        ),
        legend=False,
    )


_SOCKETS = [  # channel, client socket, kernel socket (ipykernel 7.4), what travels
    ("shell", "DEALER", "ROUTER", "requests -> replies"),
    ("iopub", "SUB", "XPUB", "<- status, output, results, errors"),
    ("stdin", "DEALER", "ROUTER", "<- input_request, input_reply ->"),
    ("control", "DEALER", "ROUTER", "shutdown, interrupt, debug -> replies"),
    ("heartbeat", "REQ", "ROUTER", "bytes -> the same bytes"),
]


def channels() -> Drawing:
    """The five channels: the socket type at each end, and what travels on each."""
    items = [
        Box("client", "client", 10, 40, 200, 330, **FRAME),
        Box("kernel", "kernel (binds every port)", 550, 40, 200, 330, **FRAME),
    ]
    links = []
    for row, (channel, client_type, kernel_type, what) in enumerate(_SOCKETS):
        y = 66 + row * 60
        items.append(Box(f"c-{channel}", client_type, 30, y, 120, 36, mono=True, **CLIENT))
        items.append(Box(f"k-{channel}", kernel_type, 610, y, 120, 36, mono=True, **KERNEL))
        toward_kernel = channel in ("shell", "control", "heartbeat")
        source, target = (f"c-{channel}", f"k-{channel}")
        if not toward_kernel:
            source, target = target, source
        links.append(
            Link(
                source,
                target,
                f"{channel}: {what}",
                channel,
                both=channel in ("shell", "stdin", "control", "heartbeat"),
            )  # fmt: skip
        )
    return boxes(
        items,
        links,
        title="Five channels, and the ZeroMQ socket at each end",
        alt=(
            "The client connects five sockets to the kernel's five: shell, stdin and control "
            "are DEALER sockets talking to the kernel's ROUTER sockets; iopub is a SUB socket "
            "receiving from the kernel's XPUB socket; the heartbeat is a REQ socket whose bytes "
            "ipykernel's ROUTER socket echoes back (the spec describes the kernel's end as REP)."
        ),
        legend=False,
    )


def kernel_states() -> Drawing:
    """The execution states of the spec, and the two that jupyter_server makes up."""
    items = [
        Box("starting", "starting", 20, 80, 120, 40, mono=True, **KERNEL),
        Box("idle", "idle", 250, 80, 120, 40, mono=True, **KERNEL),
        Box("busy", "busy", 590, 80, 120, 40, mono=True, **KERNEL),
        Box(
            "server",
            "made by jupyter_server, never sent by a kernel",
            200,
            180,
            550,
            110,
            fill="#f1f8e9",
            stroke="#558b2f",
            frame=True,
            label_below=True,
        ),
        Box("restarting", "restarting", 250, 225, 120, 40, mono=True, **SERVER),
        Box("dead", "dead", 590, 225, 120, 40, mono=True, **SERVER),
    ]
    links = [
        Link("starting", "idle", "ready", "iopub"),
        Link("idle", "busy", "a request arrives", "iopub", offset=-14),
        Link("busy", "idle", "its reply is sent", "iopub", offset=-14),
        Link("idle", "restarting", "process died", "http", dashed=True, offset=-16),
        Link("busy", "restarting", "process died", "http", dashed=True, label_at=0.3),
        Link("restarting", "idle", "restarted", "http", dashed=True, offset=-16),
        Link("restarting", "dead", "restarts used up", "http", dashed=True),
    ]
    return boxes(
        items,
        links,
        title="Kernel states: three from the spec, two from the server",
        alt=(
            "A kernel publishes status starting once, then idle; each request moves it to busy "
            "and back to idle. The states restarting and dead are not in the spec: "
            "jupyter_server publishes them itself to its websocket clients when the kernel "
            "process dies, idle or busy, and it restarts the kernel, or gives up restarting "
            "it."
        ),
        legend=False,
    )


def gateway_hops() -> Drawing:
    """A notebook server whose kernels live behind a Kernel Gateway: three hops to the kernel.

    The client talks to jupyter_server (HTTP and a websocket, the server's token), the server
    forwards both to the gateway (the same API, the gateway's token), and only the gateway
    talks ZeroMQ to the kernel, its child process. Each hop is drawn with what crosses it.
    """
    note = {"fill": "#ffffff", "stroke": "#b0bec5", "title_line": False}
    items = [
        Box("client", "websocket client\nJupyterLab, or this page", 40, 44, 300, 48, **CLIENT),
        Box(
            "server",
            "jupyter_server --gateway-url=...\nstarts no kernel, forwards",
            40,
            152,
            300,
            48,
            **SERVER,
        ),
        Box(
            "gateway",
            "Jupyter Kernel Gateway\nstarts and owns the kernels",
            40,
            260,
            300,
            48,
            **SERVER,
        ),  # fmt: skip
        Box("kernel", "kernel\nipykernel, the gateway's child", 40, 368, 300, 48, **KERNEL),
        Box(
            "hop-1",
            "the browser's path of the previous pages,\nwith the server's token",
            390,
            98,
            360,
            48,
            **note,
        ),
        Box(
            "hop-2",
            "the same REST API and websocket again, with\n"
            "the gateway's token (GatewayClient.auth_token)",
            390,
            206,
            360,
            48,
            **note,
        ),
        Box(
            "hop-3",
            "the only ZeroMQ hop: the gateway holds\nthe kernel's key and signs",
            390,
            314,
            360,
            48,
            **note,
        ),
    ]
    links = [
        Link("client", "server", "HTTP", "http", both=True, offset=60),
        Link("client", "server", "websocket", "websocket", both=True, offset=-40),
        Link("server", "gateway", "HTTP", "http", both=True, offset=60),
        Link("server", "gateway", "websocket", "websocket", both=True, offset=-40),
        Link("gateway", "kernel", "ZeroMQ", "shell", both=True),
    ]
    return boxes(
        items,
        links,
        title="Remote kernels: HTTP and websockets to the gateway, ZeroMQ at the end",
        alt=(
            "Four boxes from top to bottom. A websocket client such as JupyterLab talks HTTP "
            "and a websocket to jupyter_server, with the server's token. jupyter_server, "
            "started with --gateway-url, starts no kernel: it forwards the same REST calls "
            "and websocket messages over HTTP and a websocket of its own to a Jupyter Kernel "
            "Gateway, with the gateway's token from GatewayClient.auth_token. Only the "
            "gateway talks ZeroMQ to the kernel, its child process, and signs with the "
            "kernel's key."
        ),
        legend=False,
    )


def frame_stack(frames: Sequence[tuple[str, str]] | None = None) -> Drawing:
    """The frames of one message as ZeroMQ carries it, top frame first.

    ``frames`` are ``(name, what it holds)`` pairs, as a page read them from a real message;
    by default the layout the spec gives for a message with one routing identity.
    """
    frames = list(
        frames
        or [
            ("routing identity", "added by the ROUTER socket: which peer"),
            ("<IDS|MSG>", "the delimiter"),
            ("signature", "HMAC-SHA256 of the four JSON frames, hex"),
            ("header", '{"msg_id", "msg_type", "session", "date", ...}'),
            ("parent_header", "the header of the request this answers"),
            ("metadata", "{...}"),
            ("content", "the message's body"),
            ("buffers", "zero or more binary frames"),
        ]
    )
    items = []
    for row, (name, what) in enumerate(frames):
        y = 44 + row * 38
        style = KERNEL if name in ("header", "parent_header", "metadata", "content") else CLIENT
        items.append(Box(f"name-{row}", name, 40, y, 200, 32, mono=True, **style))
        items.append(Box(f"what-{row}", what, 250, y, 470, 32, mono=True, fill="#ffffff",
                         stroke="#b0bec5"))  # fmt: skip
    return boxes(
        items,
        title="One message on the wire: a stack of frames",
        alt=(
            "A message is a list of ZeroMQ frames, from top to bottom: "
            + "; ".join(f"{name} ({what})" for name, what in frames)
            + "."
        ),
        legend=False,
    )
