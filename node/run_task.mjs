// Drive a kernel through JupyterLab's client library, @jupyterlab/services, from Node.
//
//   node node/run_task.mjs BASE_URL TOKEN [--timeout SECONDS] [--bench CALLS]
//
// BASE_URL and TOKEN may come from the environment instead (BOOK_SERVER_URL,
// BOOK_SERVER_TOKEN). The script starts a kernel on that jupyter_server with the
// library's KernelManager, and then either
//
// - runs the book's common task (an input() answered on stdin, a print, a result),
//   then an error, and writes what the library did as JSON lines on stdout: every
//   message it sent or received (its anyMessage signal), every callback of each future
//   (onIOPub, onReply, onStdin) and when and how its `done` promise settled, the
//   kernel's statusChanged and connectionStatusChanged signals, and the websocket
//   subprotocol the server chose; or
// - with --bench CALLS, times CALLS executions of `1` (after one warm-up), each until
//   its future's `done` resolves; writes one line {"event": "bench", "seconds": []}.
//
// Then it shuts the kernel down and exits. Whatever happens, it exits within --timeout
// seconds (default 20), with status 2. The library's own console output goes to
// stderr, so that stdout holds only JSON lines.

import { performance } from "node:perf_hooks";
import services from "@jupyterlab/services";
import WebSocket from "ws";

const { KernelManager, ServerConnection } = services;

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const positional = process.argv.slice(2).filter((arg, i, all) => {
  return !arg.startsWith("--") && !(i > 0 && all[i - 1].startsWith("--"));
});
const baseUrl = positional[0] ?? process.env.BOOK_SERVER_URL;
const token = positional[1] ?? process.env.BOOK_SERVER_TOKEN;
const timeout = Number(option("--timeout", "20"));
const benchCalls = option("--bench", null);
const TASK = "name = input('Your name? ')\nprint('hello', name)\nlen(name)";
const ERROR = "1 / 0";

if (!baseUrl || !token) {
  process.stderr.write("usage: run_task.mjs URL TOKEN [--timeout S] [--bench N]\n");
  process.exit(64);
}

// Only JSON lines on stdout: the library's console.debug/log/warn go to stderr.
for (const level of ["log", "debug", "info", "warn"]) {
  console[level] = (...args) => process.stderr.write(`${level}: ${args.join(" ")}\n`);
}

const started = performance.now();
function record(event) {
  const t = Math.round((performance.now() - started) * 1000) / 1e6; // s, to 1 us
  process.stdout.write(JSON.stringify({ t, ...event }) + "\n");
}

// A way out, whatever happens: the script never outlives its timeout.
const watchdog = setTimeout(() => {
  record({ event: "timeout", seconds: timeout });
  process.exit(2);
}, timeout * 1000);

// The WebSocket class the library is given (the `WebSocket` option of
// ServerConnection.makeSettings): the `ws` package's, noting the subprotocols
// offered and the one chosen. Node 20 has fetch, but no WebSocket of its own.
class RecordingWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    record({ event: "websocket", offered: protocols ?? [] });
    this.addEventListener("open", () => {
      record({ event: "websocket-open", protocol: this.protocol });
    });
  }
}

const serverSettings = ServerConnection.makeSettings({
  baseUrl,
  token,
  appendToken: true,
  WebSocket: RecordingWebSocket,
  fetch: globalThis.fetch,
});

// One future: every callback, and how its `done` promise settles.
function watch(kernel, name, future, answer) {
  future.onIOPub = (msg) => {
    const state = msg.content.execution_state; // set on status messages only
    record({ event: "onIOPub", future: name, msg_type: msg.header.msg_type, state });
  };
  future.onReply = (msg) => {
    record({ event: "onReply", future: name, msg_type: msg.header.msg_type });
  };
  future.onStdin = (msg) => {
    record({ event: "onStdin", future: name, msg_type: msg.header.msg_type });
    if (answer !== undefined && msg.header.msg_type === "input_request") {
      future.sendInputReply({ status: "ok", value: answer }, msg.header);
    }
  };
  return future.done.then(
    (reply) => {
      const [status, kernelStatus] = [reply?.content?.status, kernel.status];
      const resolved = reply?.header.msg_type;
      record({ event: "done", future: name, resolved, status, kernelStatus });
      return reply;
    },
    (error) => {
      record({ event: "done", future: name, rejected: String(error.message) });
    },
  );
}

async function main() {
  const manager = new KernelManager({ serverSettings });
  let kernel;
  try {
    await manager.ready;
    kernel = await manager.startNew({ name: "python3" });
    // The connection exists from here; its state before any signal is connected:
    record({
      event: "created",
      status: kernel.status,
      connectionStatus: kernel.connectionStatus,
    });
    kernel.statusChanged.connect((_, status) => {
      record({ event: "statusChanged", status });
    });
    kernel.connectionStatusChanged.connect((_, status) => {
      record({ event: "connectionStatusChanged", status });
    });
    if (benchCalls !== null) {
      await kernel.info;
      const seconds = [];
      for (let i = 0; i <= Number(benchCalls); i++) {
        const start = performance.now();
        await kernel.requestExecute({ code: "1" }).done;
        if (i > 0) seconds.push((performance.now() - start) / 1000); // 0: warm-up
      }
      record({ event: "bench", seconds });
    } else {
      kernel.anyMessage.connect((_, { msg, direction }) => {
        record({ event: "message", direction, channel: msg.channel, msg });
      });
      // Sent at once, before the websocket is open: the library queues it.
      const task = kernel.requestExecute({ code: TASK, allow_stdin: true });
      record({ event: "requestExecute", future: "task" });
      await watch(kernel, "task", task, "Ada");
      const error = kernel.requestExecute({ code: ERROR });
      record({ event: "requestExecute", future: "error" });
      await watch(kernel, "error", error);
    }
  } finally {
    if (kernel !== undefined && !kernel.isDisposed) {
      await kernel.shutdown();
      record({ event: "shutdown" });
    }
    manager.dispose();
  }
}

main().then(
  () => {
    clearTimeout(watchdog);
    record({ event: "exit", code: 0 });
    process.exit(0);
  },
  (error) => {
    record({ event: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  },
);
