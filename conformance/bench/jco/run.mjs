// Runs a component transpiled by `jco transpile DIR/NAME.js` as a command, the way
// `jco run` does, but with the bench's command line: the working directory is
// preopened as ".", and the guest's arguments are NAME then ARGS.
//   node run.mjs DIR/NAME.js ARGS...
import process from "node:process";
import { pathToFileURL } from "node:url";
import { basename, resolve } from "node:path";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { _setArgs } from "@bytecodealliance/preview2-shim/cli";

const [js, ...args] = process.argv.slice(2);
if (!js) {
  console.error("usage: node run.mjs DIR/NAME.js ARGS...");
  process.exit(2);
}
_setPreopens({ ".": process.cwd() });
_setArgs([basename(js, ".js") + ".wasm", ...args]);
const mod = await import(pathToFileURL(resolve(js)).href);
const run = mod.run ?? mod["wasi:cli/run@0.2.0"] ?? mod["wasi:cli/run@0.2.3"];
if (!run || !run.run) {
  console.error(`${js}: not a command component (no wasi:cli/run export)`);
  process.exit(1);
}
try {
  run.run();
} catch (e) {
  console.error(e);
  process.exit(1);
}
// Let preview2-shim's stdout/stderr workers drain before exiting.
await new Promise((r) => setTimeout(r));
process.exit(0);
