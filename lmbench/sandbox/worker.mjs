// The sandbox worker: Pyodide under Deno, run with no permission but reading Pyodide's files.
//
// Protocol: one JSON object per line. The host's first line is a hello carrying a per-process key
// and the limits; every line the worker writes carries that key, so text that reaches stdout any
// other way (console.log, a stray write) is never taken for a message. Then the host sends
//   {"op": "run", "code": str, "tools": [{"name": str, "params": [str]}]}
//   {"op": "tool_result", "reply": str}   (during a run: JSON text, {"value": ...} or {"error": str})
// and the worker answers
//   {"type": "ready"} once,
//   {"type": "tool", "name": str, "args": str}   (a tool call from the code, JSON text args)
//   {"type": "output", "stream": "stdout" | "stderr", "text": str}   (output so far, in parts)
//   {"type": "result", "stdout", "stderr", "outcome", "truncated"}   (the output not sent yet;
//   outcome is Python's JSON text, {"value": ...} or {"error": str}, so numbers stay as written)
// Everything after start-up is synchronous: between runs the event loop never turns, so no
// callback or promise the code left behind can run outside a run. The worker exits when its
// stdin closes (the host went away).

const pyodideDir = Deno.args[0];
const snapshotPath = Deno.args[1] || "";
const stdinReadSync = Deno.stdin.readSync.bind(Deno.stdin);
const stdoutWriteSync = Deno.stdout.writeSync.bind(Deno.stdout);
const readFileSync = Deno.readFileSync;
const exit = Deno.exit;
// Everything the protocol uses is taken now, before any code runs: code that replaces
// JSON.stringify, Object.prototype.toJSON or a typed-array method later changes nothing here.
const uncurry = (method) => Function.prototype.call.bind(method);
const stringify = JSON.stringify;
const parse = JSON.parse;
const assign = Object.assign;
const createObject = Object.create;
const encode = uncurry(TextEncoder.prototype.encode);
const decode = uncurry(TextDecoder.prototype.decode);
const indexOf = uncurry(Uint8Array.prototype.indexOf);
const subarray = uncurry(Uint8Array.prototype.subarray);
const slice = uncurry(Uint8Array.prototype.slice);
const byteCount = uncurry(
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "length").get,
);
const sliceText = uncurry(String.prototype.slice);
const { floor, min, max } = Math;
const setBytes = uncurry(Uint8Array.prototype.set);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// -- lines in, lines out ------------------------------------------------------------------------

let pending = new Uint8Array(0);
const chunk = new Uint8Array(1 << 16);

function readLine() {
  for (;;) {
    const end = indexOf(pending, 10);
    if (end >= 0) {
      const line = decode(decoder, subarray(pending, 0, end));
      pending = slice(pending, end + 1);
      return line;
    }
    const count = stdinReadSync(chunk);
    if (count === null) exit(0); // the host is gone
    const grown = new Uint8Array(byteCount(pending) + count);
    setBytes(grown, pending);
    setBytes(grown, subarray(chunk, 0, count), byteCount(pending));
    pending = grown;
  }
}

const hello = parse(readLine());
const key = `${hello.key}`;
const maxOutput = Number(hello.max_output);
const memoryPages = floor((Number(hello.memory_mb) * 1048576) / 65536);

function send(message) {
  // a prototype-less object: no toJSON can be found on it, however Object.prototype is changed
  const bytes = encode(encoder, stringify(assign(createObject(null), message, { key })) + "\n");
  let written = 0;
  while (written < byteCount(bytes)) written += stdoutWriteSync(subarray(bytes, written));
}

// -- memory cap: Python's heap is the WebAssembly memory, capped at memory_mb ------------------

const NativeMemory = WebAssembly.Memory;
function CappedMemory(descriptor) {
  if (!descriptor.shared) {
    if (descriptor.initial > memoryPages) throw new RangeError("WebAssembly.Memory(): above the sandbox's memory_mb");
    const maximum = min(descriptor.maximum ?? memoryPages, memoryPages);
    descriptor = { ...descriptor, maximum: max(maximum, descriptor.initial) };
  }
  return new NativeMemory(descriptor);
}
CappedMemory.prototype = NativeMemory.prototype;
WebAssembly.Memory = CappedMemory;

// -- output capture, capped at max_output characters per stream --------------------------------
// Output goes to the host as it comes (each of a run's first 64 writes at once, then every 4 kB
// or 0.2 s), so a run that is stopped still shows what it printed; the result carries the rest.

const output = { stdout: "", stderr: "", sent: { stdout: 0, stderr: 0 }, truncated: false };
const now = performance.now.bind(performance);
let lastSent = 0;
let writes = 0;

function unsent(stream) {
  const text = sliceText(output[stream], output.sent[stream]);
  output.sent[stream] = output[stream].length;
  return text;
}

function collector(stream) {
  return {
    write(buffer) {
      const text = decode(decoder, buffer);
      const room = maxOutput - output[stream].length;
      if (text.length > room) {
        output[stream] += sliceText(text, 0, max(room, 0));
        output.truncated = true;
      } else {
        output[stream] += text;
      }
      const waiting = output[stream].length - output.sent[stream];
      writes += 1;
      if (waiting > 0 && (writes <= 64 || waiting >= 4096 || now() - lastSent > 200)) {
        send({ type: "output", stream, text: unsent(stream) });
        lastSent = now();
      }
      return byteCount(buffer);
    },
  };
}

// -- Pyodide -----------------------------------------------------------------------------------

const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
let snapshot;
if (snapshotPath) {
  try {
    snapshot = readFileSync(snapshotPath);
  } catch {
    snapshot = undefined; // no snapshot: a slower, complete start
  }
}
const pyodide = await loadPyodide({
  indexURL: pyodideDir + "/",
  ...(snapshot ? { _loadSnapshot: snapshot } : {}),
  env: { HOME: "/home/pyodide" },
});
const collectors = { stdout: collector("stdout"), stderr: collector("stderr") };
pyodide.setStdin({ error: true });
pyodide.setStdout(collectors.stdout);
pyodide.setStderr(collectors.stderr);
// console.* writes to the run's output too, never to the protocol channel.
const printer = (stream) => (...args) =>
  collectors[stream].write(encode(encoder, args.map((arg) => `${arg}`).join(" ") + "\n"));
globalThis.console = {
  log: printer("stdout"), info: printer("stdout"), debug: printer("stdout"),
  warn: printer("stderr"), error: printer("stderr"), trace: printer("stderr"),
};

// Tools: the code calls them synchronously; the worker asks the host and waits for its answer.
function callTool(rawName, rawArgs) {
  const name = `${rawName}`;
  const args = `${rawArgs}`;
  if (name.length > 200) return stringify({ error: "a tool name is at most 200 characters" });
  if (args.length > maxOutput) {
    return stringify({ error: `the arguments of ${name} are longer than ${maxOutput} characters` });
  }
  send({ type: "tool", name, args });
  const reply = parse(readLine());
  if (reply.op !== "tool_result") exit(3); // the host broke the protocol
  return `${reply.reply}`; // JSON text, read by Python as it was written (4.0 stays a float)
}
pyodide.registerJsModule("_lmbench_host", { call_tool: callTool });
pyodide.runPython(hello.bootstrap);
const runner = pyodide.pyimport("_lmbench_runner");

// Nothing the code needs: drop the ways out of the isolate that need no permission. Web
// storage and the Cache API persist on the host (in DENO_DIR) and would let one sandbox leave
// data for the next; prompt/alert/confirm read stdin and write stdout; close() ends the worker.
const removed = [
  "Deno", "process", "require", "fetch", "Worker", "WebSocket", "WebSocketStream", "EventSource",
  "localStorage", "sessionStorage", "Storage", "caches", "CacheStorage", "Cache",
  "prompt", "alert", "confirm", "close", "navigator", "Navigator", "BroadcastChannel",
  "nodeBootstrap",
];
for (const name of removed) {
  try {
    delete globalThis[name];
  } catch {
    // not configurable: shadowed below
  }
  if (name in globalThis) {
    Object.defineProperty(globalThis, name, { value: undefined, configurable: false, writable: false });
  }
}

send({ type: "ready" });

for (;;) {
  const message = parse(readLine());
  if (message.op === "run") {
    output.stdout = "";
    output.stderr = "";
    output.sent = { stdout: 0, stderr: 0 };
    output.truncated = false;
    lastSent = now();
    writes = 0;
    let outcome;
    try {
      outcome = `${runner.run(`${message.code}`, stringify(message.tools || []), maxOutput)}`;
    } catch (error) {
      // Pyodide itself failed (a fatal error): report it; the host starts a new worker.
      send({ type: "result", stdout: unsent("stdout"), stderr: unsent("stderr"),
             error: `the Python runtime failed: ${sliceText(`${error}`, 0, 2000)}`, fatal: true,
             truncated: output.truncated });
      exit(4);
    }
    // outcome: Python's JSON text of {"value": ...} or {"error": ...}, passed on as text
    send({ type: "result", stdout: unsent("stdout"), stderr: unsent("stderr"), outcome,
           truncated: output.truncated });
  } else {
    exit(3);
  }
}
