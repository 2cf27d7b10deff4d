// Runs a component transpiled by `jco transpile DIR/NAME.js` as a command, like `jco run`,
// but with the bench's command line: the working directory is preopened as ".", and the
// guest's arguments are NAME then ARGS.
//   node run.mjs DIR/NAME.js ARGS...
//
// Invariants (what `jco run` 1.35's runner does not keep):
// - No output is lost. preview2-shim 0.26.1 writes the guest's stdout and stderr on the
//   main thread with `process.stdout.write` / `process.stderr.write` (its I/O worker is
//   for files and sockets), and on POSIX a write to a pipe is asynchronous: when the
//   reader is slower than the guest, Node queues the rest in memory, and the event loop,
//   which does not run while the guest runs, writes it out later. A `process.exit` one
//   timer tick after `run` (jco run's way) drops what is still queued: piped into a
//   reader that waits 1 s, print-heavy 20000 printed 65,235 of its 719,989 bytes, exit 0.
//   So the runner exits only once both streams have flushed everything queued before.
// - The exit status is the program's, as wasmtime's CLI gives it: 0 when `run` returns
//   ok, 1 when it returns err, 0 / 1 for the guest's `exit(ok / err)` and N for its
//   `exit-with-code(N)` (the guest unwinds, as on wasmtime, instead of preview2-shim's immediate
//   `process.exit`, which would drop queued output too), 134 for a trap, 1 for anything
//   else (a bad module, a missing export).
import process from "node:process";
import { pathToFileURL } from "node:url";
import { basename, resolve } from "node:path";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { _setArgs, exit as cliExit } from "@bytecodealliance/preview2-shim/cli";

const TRAP_EXIT = 134; // what wasmtime's CLI exits with on a trap

// The guest's `wasi:cli/exit` call, thrown through its frames to run()'s caller.
class GuestExit {
  constructor(code) {
    this.code = code;
  }
}

// Resolves once everything written to `stream` before this call has been handed to the
// OS (writes complete in order, so the callback of an empty write comes after them).
function flushed(stream) {
  return new Promise((done) => {
    if (stream.destroyed || !stream.writable) {
      done();
      return;
    }
    stream.write("", () => done());
  });
}

async function finish(code) {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

function isTrap(e) {
  if (e instanceof WebAssembly.RuntimeError) return true;
  // V8 reports wasm stack exhaustion as a RangeError; wasmtime calls it a trap.
  return e instanceof RangeError && /call stack/i.test(String(e.message));
}

const [js, ...args] = process.argv.slice(2);
if (!js) {
  console.error("usage: node run.mjs DIR/NAME.js ARGS...");
  await finish(2);
}
// Before the component's module is evaluated: it takes `exit` out of this object then.
cliExit.exit = (status) => {
  throw new GuestExit(status?.tag === "err" ? 1 : 0);
};
cliExit.exitWithCode = (code) => {
  throw new GuestExit(code);
};
_setPreopens({ ".": process.cwd() });
_setArgs([basename(js, ".js") + ".wasm", ...args]);
let code = 0;
try {
  const mod = await import(pathToFileURL(resolve(js)).href);
  const run = mod.run ?? mod["wasi:cli/run@0.2.0"] ?? mod["wasi:cli/run@0.2.3"];
  if (!run || !run.run) {
    console.error(`${js}: not a command component (no wasi:cli/run export)`);
    code = 1;
  } else {
    run.run();
  }
} catch (e) {
  if (e instanceof GuestExit) {
    code = e.code;
    if (!(Number.isInteger(code) && code >= 0 && code < 256)) {
      console.error(`exit status ${code} is out of range`);
      code = 1;
    }
  } else if (isTrap(e)) {
    console.error(e);
    code = TRAP_EXIT;
  } else {
    // run's err result (jco's ComponentError) or a host-side error
    if (e?.constructor?.name !== "ComponentError") console.error(e);
    code = 1;
  }
}
await finish(code);
