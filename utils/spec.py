"""Where the messaging spec explains each message type: links into ``docs/messaging.rst``.

The book links every message type it discusses to its section of the spec as published with
``jupyter_client``'s documentation. :data:`ANCHORS` holds the section ids of the spec's
current text (version 5.5), so a test can check every link of the book offline.
"""

from __future__ import annotations

__all__ = ["ANCHORS", "SECTION_OF", "SPEC_URL", "spec_url"]

#: The rendered messaging spec.
SPEC_URL = "https://jupyter-client.readthedocs.io/en/latest/messaging.html"

#: Section ids of the spec (labels and titles of ``docs/messaging.rst``, version 5.5).
ANCHORS = frozenset(
    """
    versioning introduction general-message-format message-header parent-header metadata
    content buffers a-full-message compatibility msging-compatibility the-wire-protocol
    wire-protocol kernel-startup-handshake python-api messages-on-the-shell-router-dealer-channel
    request-reply execute execution-counter execution-results payloads-deprecated introspection
    msging-inspection completion msging-completion history msging-history code-completeness
    msging-is-complete connect comm-info msging-comm-info kernel-info msging-kernel-info
    messages-on-the-control-router-dealer-channel kernel-shutdown msging-shutdown
    kernel-interrupt msging-interrupt debug-request additions-to-the-dap dumpcell debuginfo
    inspectvariables richinspectvariables copytoglobals kernel-subshells create-subshell
    delete-subshell list-subshell messages-on-the-iopub-xpub-sub-channel welcome-message
    streams-stdout-stderr-etc display-data update-display-data code-inputs
    execution-errors kernel-status status clear-output debug-event
    messages-on-the-stdin-router-dealer-channel stdin-messages heartbeat-for-kernels
    kernel-heartbeat custom-messages opening-a-comm comm-messages tearing-down-comms
    output-side-effects changelog notes cursor-pos-and-unicode-offsets cursor-pos-unicode-note
    """.split()
)

#: The spec section of each message type (requests and replies share one).
SECTION_OF: dict[str, str] = {
    **dict.fromkeys(["execute_request", "execute_reply"], "execute"),
    **dict.fromkeys(["inspect_request", "inspect_reply"], "msging-inspection"),
    **dict.fromkeys(["complete_request", "complete_reply"], "msging-completion"),
    **dict.fromkeys(["history_request", "history_reply"], "msging-history"),
    **dict.fromkeys(["is_complete_request", "is_complete_reply"], "msging-is-complete"),
    **dict.fromkeys(["connect_request", "connect_reply"], "connect"),
    **dict.fromkeys(["comm_info_request", "comm_info_reply"], "msging-comm-info"),
    **dict.fromkeys(["kernel_info_request", "kernel_info_reply"], "msging-kernel-info"),
    **dict.fromkeys(["shutdown_request", "shutdown_reply"], "msging-shutdown"),
    **dict.fromkeys(["interrupt_request", "interrupt_reply"], "msging-interrupt"),
    **dict.fromkeys(["debug_request", "debug_reply"], "debug-request"),
    **dict.fromkeys(["create_subshell_request", "create_subshell_reply"], "create-subshell"),
    **dict.fromkeys(["delete_subshell_request", "delete_subshell_reply"], "delete-subshell"),
    **dict.fromkeys(["list_subshell_request", "list_subshell_reply"], "list-subshell"),
    "stream": "streams-stdout-stderr-etc",
    "display_data": "display-data",
    "update_display_data": "update-display-data",
    "execute_input": "code-inputs",
    # The spec has two sections titled "Execution results" and gives the iopub one no label:
    # Sphinx names it by a counter (id9 when built from jupyter_client's main, June 2026),
    # which moves whenever the page changes. Link its channel's section instead.
    "execute_result": "messages-on-the-iopub-xpub-sub-channel",
    "error": "execution-errors",
    "status": "status",
    "clear_output": "clear-output",
    "debug_event": "debug-event",
    "iopub_welcome": "welcome-message",
    **dict.fromkeys(["input_request", "input_reply"], "stdin-messages"),
    "comm_open": "opening-a-comm",
    "comm_msg": "comm-messages",
    "comm_close": "tearing-down-comms",
}


def spec_url(name: str) -> str:
    """The URL of the spec section of a message type, or of a section id of :data:`ANCHORS`."""
    anchor = SECTION_OF.get(name, name)
    if anchor not in ANCHORS:
        raise KeyError(f"the messaging spec has no section for {name!r}")
    return f"{SPEC_URL}#{anchor}"
