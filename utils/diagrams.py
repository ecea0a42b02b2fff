"""Draw the book's pictures as SVG: sequence diagrams from real captures, and box diagrams.

Every picture is a :class:`Drawing`: an SVG image that a notebook shows as its output, with a
text description that is the picture's alternative text (its ``<title>``, the plain-text
version of the output, and the ``alt`` of the image in the rendered book). The SVG is made by
this module alone, with no fonts or files from elsewhere, and holds no time or random value:
the same capture gives the same picture, so the output check that re-runs the pages compares
pictures too.

- :func:`sequence`: lanes (client, kernel, server, ...) and the arrows between them.
- :func:`sequence_from_record`: a sequence diagram of messages a client really exchanged,
  taken from a ``utils.protocol`` record and ordered by the times in their headers.
- :func:`boxes`: boxes and labelled arrows at given places: architectures, threads, states,
  frames.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .run_jupyter_kernel import parent_id

__all__ = [
    "CHANNEL_COLORS",
    "Arrow",
    "Box",
    "Drawing",
    "Link",
    "Note",
    "boxes",
    "sequence",
    "sequence_from_record",
]

WIDTH = 760  # px: the book's content column is about 780 px wide
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO_CHAR = 7.3  # px per character of 12 px monospace text
SANS_CHAR = 7.0  # px per character (average) of 13 px sans-serif text

#: One color per channel (and per hop outside ZeroMQ), used by every picture of the book.
CHANNEL_COLORS: dict[str, str] = {
    "shell": "#1f5fa8",
    "iopub": "#c2560c",
    "stdin": "#2e7d32",
    "control": "#8e24aa",
    "heartbeat": "#616161",
    "http": "#37474f",
    "websocket": "#00796b",
    "signal": "#b71c1c",
    "dap": "#5d4037",
}


@dataclass(frozen=True)
class Drawing:
    """An SVG picture and the sentence that describes it.

    In a notebook it shows as the picture; where pictures cannot be shown (a terminal, an
    untrusted notebook) its description stands in. ``alt`` should say what the picture
    shows, not what it is ("a sequence diagram").
    """

    svg: str
    alt: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/plain": textwrap.fill(self.alt, 88)}

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path`` (for pictures kept as files in ``notebooks/images``)."""
        path = Path(path)
        path.write_text(self.svg + "\n", encoding="utf-8")
        return path


# --------------------------------------------------------------------------- SVG pieces


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 12,
    mono: bool = True,
    anchor: str = "middle",
    color: str = "#212121",
    weight: str = "normal",
) -> str:
    family = MONO if mono else SANS
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{family}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{color}" font-weight="{weight}">{_esc(text)}</text>'
    )


def _fit(text: str, room: float, mono: bool = True) -> str:
    """``text`` cut with an ellipsis so that it fits ``room`` px."""
    most = max(4, int(room / (MONO_CHAR if mono else SANS_CHAR)))
    return text if len(text) <= most else text[: most - 1] + "…"


def _svg(width: float, height: float, title: str, alt: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="title desc">'
        f'<title id="title">{_esc(alt)}</title><desc id="desc">{_esc(title)}</desc>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
    )
    return "\n".join([head, *body, "</svg>"])


def _arrowhead(x: float, y: float, dx: float, dy: float, color: str) -> str:
    """A filled arrowhead at (x, y) pointing along (dx, dy)."""
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    back_x, back_y = x - 9 * ux, y - 9 * uy
    left = (back_x - 4 * uy, back_y + 4 * ux)
    right = (back_x + 4 * uy, back_y - 4 * ux)
    points = f"{x:.1f},{y:.1f} {left[0]:.1f},{left[1]:.1f} {right[0]:.1f},{right[1]:.1f}"
    return f'<polygon points="{points}" fill="{color}"/>'


def _legend(channels: Iterable[str], y: float, width: float) -> list[str]:
    channels = [c for c in dict.fromkeys(channels) if c in CHANNEL_COLORS]
    if not channels:
        return []
    parts, x = [], 0.0
    items = []
    for channel in channels:
        items.append((x, channel))
        x += 28 + len(channel) * SANS_CHAR + 18
    start = (width - (x - 18)) / 2
    for offset, channel in items:
        x0 = start + offset
        color = CHANNEL_COLORS[channel]
        parts.append(
            f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x0 + 22:.1f}" y2="{y:.1f}" '
            f'stroke="{color}" stroke-width="2.5"/>'
        )
        parts.append(_text(x0 + 28, y + 4, channel, size=12, mono=False, anchor="start"))
    return parts


# --------------------------------------------------------------------------- sequence diagrams


@dataclass(frozen=True)
class Arrow:
    """One message (or call, or signal) from one lane to another, on a channel."""

    source: str
    target: str
    label: str
    channel: str = "shell"
    dashed: bool = False


@dataclass(frozen=True)
class Note:
    """A remark written across the lanes it names (one lane, or the span of two)."""

    lanes: tuple[str, ...]
    text: str


def sequence(
    lanes: Sequence[str],
    steps: Sequence[Arrow | Note],
    *,
    title: str,
    alt: str,
    busy: Iterable[tuple[str, int, int]] = (),
    width: float = WIDTH,
) -> Drawing:
    """A sequence diagram: one vertical lane per party, one row per step, top to bottom.

    Parameters
    ----------
    lanes
        The parties, left to right (``"client"``, ``"kernel"``, ...).
    steps
        :class:`Arrow` and :class:`Note` rows, in the order they happened.
    title
        A short heading drawn above the lanes.
    alt
        What the picture shows, in a sentence or two: its alternative text.
    busy
        ``(lane, first_step, last_step)``: a bar on that lane over those rows (a kernel
        that is busy from its ``busy`` to its ``idle``).
    width
        Width of the picture in px.
    """
    if len(lanes) < 2:
        raise ValueError("a sequence diagram needs at least two lanes")
    unknown = {
        lane
        for step in steps
        for lane in ((step.source, step.target) if isinstance(step, Arrow) else step.lanes)
        if lane not in lanes
    }
    if unknown:
        raise ValueError(f"steps name lanes that are not in {list(lanes)}: {sorted(unknown)}")
    margin = 80.0
    gap = (width - 2 * margin) / (len(lanes) - 1)
    x = {lane: margin + i * gap for i, lane in enumerate(lanes)}
    top, row_height = 78.0, 30.0
    ys = [top + 20 + i * row_height for i in range(len(steps))]
    bottom = (ys[-1] if ys else top) + 24
    body = [_text(width / 2, 22, title, size=15, mono=False, weight="bold")]
    for lane in lanes:  # headers and lifelines
        box_w = max(84.0, len(lane) * SANS_CHAR + 20)
        body.append(
            f'<rect x="{x[lane] - box_w / 2:.1f}" y="36" width="{box_w:.1f}" height="26" rx="5" '
            'fill="#eceff1" stroke="#90a4ae"/>'
        )
        body.append(_text(x[lane], 54, lane, size=13, mono=False, weight="bold"))
        body.append(
            f'<line x1="{x[lane]:.1f}" y1="62" x2="{x[lane]:.1f}" y2="{bottom:.1f}" '
            'stroke="#b0bec5" stroke-dasharray="4 4"/>'
        )
    for lane, first, last in busy:
        y0, y1 = ys[first] - 6, ys[last] + 6
        body.append(
            f'<rect x="{x[lane] - 5:.1f}" y="{y0:.1f}" width="10" height="{y1 - y0:.1f}" '
            'fill="#ffe0b2" stroke="#fb8c00"/>'
        )
    channels = []
    for step, y in zip(steps, ys, strict=True):
        if isinstance(step, Note):
            xs = [x[lane] for lane in step.lanes]
            left, right = min(xs) - 60, max(xs) + 60
            room = right - left - 12
            text = _fit(step.text, room, mono=False)
            w = min(room, len(text) * SANS_CHAR) + 16
            body.append(
                f'<rect x="{(left + right) / 2 - w / 2:.1f}" y="{y - 14:.1f}" width="{w:.1f}" '
                'height="20" rx="3" fill="#fffde7" stroke="#fbc02d"/>'
            )
            body.append(_text((left + right) / 2, y + 0.5, text, size=12, mono=False))
            continue
        color = CHANNEL_COLORS.get(step.channel, "#212121")
        channels.append(step.channel)
        dash = ' stroke-dasharray="6 4"' if step.dashed else ""
        x0, x1 = x[step.source], x[step.target]
        if x0 == x1:  # a step inside one party: a small loop to its right
            body.append(
                f'<path d="M{x0:.1f},{y - 8:.1f} h26 v14 h-22" fill="none" stroke="{color}" '
                f'stroke-width="1.6"{dash}/>'
            )
            body.append(_arrowhead(x0 + 4, y + 6, -1, 0, color))
            body.append(
                _text(
                    x0 + 34, y + 3, _fit(step.label, width - x0 - 40), anchor="start", color=color
                )  # fmt: skip
            )
            continue
        direction = 1 if x1 > x0 else -1
        start, end = x0 + 6 * direction, x1 - 6 * direction
        body.append(
            f'<line x1="{start:.1f}" y1="{y + 4:.1f}" x2="{end - 8 * direction:.1f}" '
            f'y2="{y + 4:.1f}" stroke="{color}" stroke-width="1.6"{dash}/>'
        )
        body.append(_arrowhead(end, y + 4, direction, 0, color))
        label = _fit(step.label, abs(x1 - x0) - 20)
        body.append(_text((x0 + x1) / 2, y - 2, label, color=color))
    height = bottom + (34 if channels else 10)
    body += _legend(channels, bottom + 18, width)
    return Drawing(_svg(width, height, title, alt, body), alt)


def _label(msg: dict[str, Any]) -> str:
    """A short label for a message: its type and the part of its content that matters."""
    kind, content = msg["header"]["msg_type"], msg.get("content", {})
    if kind == "status":
        return f"status: {content.get('execution_state')}"
    if kind == "stream":
        return f"stream {content.get('name')}: {content.get('text', '')!r}"
    if kind == "execute_request":
        return f"execute_request {content.get('code', '')!r}"
    if kind in ("execute_result", "display_data", "update_display_data"):
        data = content.get("data", {})
        return f"{kind}: {data.get('text/plain', ', '.join(sorted(data)))}"
    if kind == "error":
        return f"error: {content.get('ename')}"
    if kind == "input_request":
        return f"input_request {content.get('prompt', '')!r}"
    if kind == "input_reply":
        return f"input_reply {content.get('value', '')!r}"
    if kind in ("debug_request", "debug_reply"):
        return f"{kind}: {content.get('command')}"
    if kind == "debug_event":
        return f"debug_event: {content.get('event')}"
    if kind.endswith("_reply") and content.get("status", "ok") != "ok":
        return f"{kind} ({content.get('status')})"
    return kind


def _join_streams(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join consecutive ``stream`` messages of one stream and one parent into one.

    How many messages a print becomes depends on when the kernel flushes; their joined text
    does not.
    """
    joined: list[dict[str, Any]] = []
    for msg in messages:
        prev = joined[-1] if joined else None
        if (
            prev is not None
            and msg["header"]["msg_type"] == prev["header"]["msg_type"] == "stream"
            and msg["content"].get("name") == prev["content"].get("name")
            and parent_id(msg) == parent_id(prev)
        ):
            content = {**prev["content"], "text": prev["content"]["text"] + msg["content"]["text"]}
            joined[-1] = {**prev, "content": content}
            continue
        joined.append(msg)
    return joined


def sequence_from_record(
    record: Any,
    *,
    title: str,
    alt: str,
    about: Iterable[dict[str, Any] | str] | None = None,
    lanes: Sequence[str] = ("client", "kernel"),
    lane_of: Callable[[dict[str, Any]], tuple[str, str]] | None = None,
    channel_of: Callable[[dict[str, Any]], str] | None = None,
    label: Callable[[dict[str, Any]], str] = _label,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    width: float = WIDTH,
) -> Drawing:
    """A sequence diagram of captured messages, in the order their senders sent them.

    Within one channel the order is the order of the record: ZeroMQ delivers the messages of
    one socket in the order they were sent. Across channels nothing fixes an order at the
    receiver, so messages of different channels are placed by the ``date`` in their headers
    (the sender's clock, here one machine). The header date alone would not do: ipykernel
    dates a ``stream`` when it flushes it, which can be after the ``execute_result`` it then
    publishes later. Consecutive ``stream`` messages of one stream are drawn as one arrow.

    Parameters
    ----------
    record
        A ``utils.protocol.RecordingSession`` (its record, and what it knows of channels and
        of which messages it sent), or a list of messages.
    about
        Requests (messages or ``msg_id``): draw only them and the messages whose parent is
        one of them. Default: every message of the record (or what ``keep`` keeps).
    lane_of
        ``msg -> (source lane, target lane)``. Default: from the first lane (the client) to
        the last (the kernel) for the messages the client sent, the other way for the rest.
    channel_of
        ``msg -> channel``; default: the session's ``channel_of``, or ``utils.protocol``'s.
    label
        ``msg -> text`` written on its arrow.
    keep
        ``msg -> bool``: which messages to draw (after ``about``).
    """
    from .protocol import channel_of as channel_by_type

    session = record if hasattr(record, "record") else None
    messages = list(session.record if session is not None else record)
    sent = session.sent if session is not None else _looks_sent
    channel_of = channel_of or (session.channel_of if session is not None else channel_by_type)
    lane_of = lane_of or _default_lanes(lanes, sent)
    if about is not None:
        ids = {a if isinstance(a, str) else a["header"]["msg_id"] for a in about}
        messages = [m for m in messages if m["header"]["msg_id"] in ids or parent_id(m) in ids]
    if keep is not None:
        messages = [m for m in messages if keep(m)]
    steps: list[Arrow | Note] = []
    busy: list[tuple[str, int, int]] = []
    started: dict[tuple[str, str], int] = {}
    for msg in _join_streams(_merge_by_channel(messages, channel_of, lane_of)):
        source, target = lane_of(msg)
        steps.append(Arrow(source, target, label(msg), channel_of(msg)))
        is_status = msg["header"]["msg_type"] == "status"
        state = msg["content"].get("execution_state") if is_status else None
        parent = parent_id(msg) or ""
        if state == "busy":
            started[(source, parent)] = len(steps) - 1
        elif state == "idle" and (source, parent) in started:
            busy.append((source, started.pop((source, parent)), len(steps) - 1))
    return sequence(lanes, steps, title=title, alt=alt, busy=busy, width=width)


def _merge_by_channel(
    messages: list[dict[str, Any]],
    channel_of: Callable[[dict[str, Any]], str],
    lane_of: Callable[[dict[str, Any]], tuple[str, str]],
) -> list[dict[str, Any]]:
    """Messages in record order within each (channel, sender), merged across by header date."""
    queues: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for msg in messages:
        queues.setdefault((channel_of(msg), lane_of(msg)[0]), []).append(msg)
    merged: list[dict[str, Any]] = []
    heads = {key: 0 for key in queues}
    while len(merged) < len(messages):
        key = min(
            (k for k in queues if heads[k] < len(queues[k])),
            key=lambda k: queues[k][heads[k]]["header"]["date"],
        )
        merged.append(queues[key][heads[key]])
        heads[key] += 1
    return merged


def _looks_sent(msg: dict[str, Any]) -> bool:
    """For a plain list of messages: requests and input replies are the client's."""
    kind = msg["header"]["msg_type"]
    return kind.endswith("_request") and kind != "input_request" or kind == "input_reply"


def _default_lanes(
    lanes: Sequence[str], sent: Callable[[dict[str, Any]], bool]
) -> Callable[[dict[str, Any]], tuple[str, str]]:
    client, kernel = lanes[0], lanes[-1]

    def lane_of(msg: dict[str, Any]) -> tuple[str, str]:
        return (client, kernel) if sent(msg) else (kernel, client)

    return lane_of


# --------------------------------------------------------------------------- box diagrams


@dataclass(frozen=True)
class Box:
    """A box at ``(x, y)`` (its top-left corner, px) of size ``w`` by ``h``.

    ``label`` may hold several lines (``\\n``); the first is bold when ``title_line``.
    A ``frame`` box is drawn behind the others, with its label at its top-left: a process
    or machine that holds other boxes.
    """

    name: str
    label: str
    x: float
    y: float
    w: float
    h: float
    fill: str = "#e3f2fd"
    stroke: str = "#1565c0"
    mono: bool = False
    frame: bool = False
    title_line: bool = True
    label_below: bool = False  # a frame's label at its bottom-left instead of its top-left


@dataclass(frozen=True)
class Link:
    """An arrow from one box to another, with an optional label, on a channel's color.

    ``both`` draws a head at each end; ``offset`` shifts the arrow sideways (px), so that two
    arrows between the same boxes do not overlap; ``label_at`` places the label along it
    (0 at the source, 1 at the target).
    """

    source: str
    target: str
    label: str = ""
    channel: str = "http"
    both: bool = False
    dashed: bool = False
    offset: float = 0.0
    label_at: float = 0.5


def _clip(box: Box, px: float, py: float, qx: float, qy: float) -> tuple[float, float]:
    """Where the segment from the centre (px, py) of ``box`` towards (qx, qy) leaves it."""
    dx, dy = qx - px, qy - py
    if dx == dy == 0:
        return px, py
    scale = min(
        (box.w / 2 + 3) / abs(dx) if dx else math.inf,
        (box.h / 2 + 3) / abs(dy) if dy else math.inf,
    )
    return px + dx * scale, py + dy * scale


def boxes(
    items: Sequence[Box],
    links: Sequence[Link] = (),
    *,
    title: str,
    alt: str,
    width: float = WIDTH,
    height: float | None = None,
    legend: bool = True,
) -> Drawing:
    """Boxes at fixed places and arrows between them (architectures, threads, states, frames).

    Parameters
    ----------
    items
        The boxes; ``frame`` boxes are drawn first, behind the others.
    links
        Arrows between boxes, by box name.
    title, alt
        Heading and alternative text, as for :func:`sequence`.
    height
        Height of the picture; default: below the lowest box.
    legend
        Draw a legend of the channels the links use.
    """
    by_name = {box.name: box for box in items}
    missing = {name for link in links for name in (link.source, link.target)} - set(by_name)
    if missing:
        raise ValueError(f"links name boxes that do not exist: {sorted(missing)}")
    lowest = max(box.y + box.h for box in items)
    body = [_text(width / 2, 22, title, size=15, mono=False, weight="bold")]
    for box in sorted(items, key=lambda b: not b.frame):
        body.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
            f'rx="6" fill="{box.fill}" stroke="{box.stroke}"'
            + (' stroke-dasharray="5 3"/>' if box.frame else "/>")
        )
        lines = box.label.split("\n")
        if box.frame:
            label_y = box.y + box.h - 8 if box.label_below else box.y + 17
            label = _fit(lines[0], box.w - 16, mono=False)
            body.append(
                _text(
                    box.x + 8,
                    label_y,
                    label,
                    size=13,
                    mono=False,
                    anchor="start",
                    weight="bold",
                    color=box.stroke,
                )
            )
            continue
        size, step = (12, 15) if len(lines) > 1 else (13, 15)
        y0 = box.y + box.h / 2 - (len(lines) - 1) * step / 2 + 4.5
        for i, line in enumerate(lines):
            mono = box.mono and not (i == 0 and box.title_line and len(lines) > 1)
            weight = "bold" if i == 0 and box.title_line and len(lines) > 1 else "normal"
            body.append(
                _text(
                    box.x + box.w / 2,
                    y0 + i * step,
                    _fit(line, box.w - 10, mono),
                    size=size,
                    mono=mono,
                    weight=weight,
                )  # fmt: skip
            )
    channels = []
    for link in links:
        a, b = by_name[link.source], by_name[link.target]
        ax, ay, bx, by = a.x + a.w / 2, a.y + a.h / 2, b.x + b.w / 2, b.y + b.h / 2
        length = math.hypot(bx - ax, by - ay) or 1.0
        nx, ny = -(by - ay) / length * link.offset, (bx - ax) / length * link.offset
        sx, sy = _clip(a, ax + nx, ay + ny, bx + nx, by + ny)
        ex, ey = _clip(b, bx + nx, by + ny, ax + nx, ay + ny)
        color = CHANNEL_COLORS.get(link.channel, "#212121")
        channels.append(link.channel)
        dash = ' stroke-dasharray="6 4"' if link.dashed else ""
        ux, uy = (
            (ex - sx) / (math.hypot(ex - sx, ey - sy) or 1),
            (ey - sy) / (math.hypot(ex - sx, ey - sy) or 1),
        )
        lx0, ly0 = (sx + 8 * ux, sy + 8 * uy) if link.both else (sx, sy)
        body.append(
            f'<line x1="{lx0:.1f}" y1="{ly0:.1f}" x2="{ex - 8 * ux:.1f}" y2="{ey - 8 * uy:.1f}" '
            f'stroke="{color}" stroke-width="1.8"{dash}/>'
        )
        body.append(_arrowhead(ex, ey, ux, uy, color))
        if link.both:
            body.append(_arrowhead(sx, sy, -ux, -uy, color))
        if link.label:
            mx, my = sx + (ex - sx) * link.label_at, sy + (ey - sy) * link.label_at
            w = len(link.label) * MONO_CHAR + 8
            if math.hypot(ex - sx, ey - sy) >= w + 36:  # on the arrow, over a white patch
                body.append(
                    f'<rect x="{mx - w / 2:.1f}" y="{my - 10:.1f}" width="{w:.1f}" height="16" '
                    'fill="#ffffff" fill-opacity="0.92"/>'
                )
                body.append(_text(mx, my + 2, link.label, color=color))
            elif abs(ex - sx) >= abs(ey - sy):  # a short, flat arrow: the label above it
                body.append(_text(mx, my - 6, link.label, color=color))
            elif nx < 0:  # a short, steep arrow shifted left: the label on its left
                body.append(_text(mx - 8, my + 4, link.label, color=color, anchor="end"))
            else:  # a short, steep arrow: the label on its right
                body.append(_text(mx + 8, my + 4, link.label, color=color, anchor="start"))
    bottom = height if height is not None else lowest + 16
    if legend and channels:
        body += _legend(channels, bottom + 6, width)
        bottom += 24
    return Drawing(_svg(width, bottom, title, alt, body), alt)
