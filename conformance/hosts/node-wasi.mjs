#!/usr/bin/env node
// A small WASIp1 host on Node's built-in `node:wasi`, shaped like `wasmtime run`.
//
//   node conformance/hosts/node-wasi.mjs [OPTIONS] prog.wasm [ARGS...]
//
// Options (may repeat; all must come before prog.wasm):
//   --dir HOST[::GUEST]     preopen HOST at GUEST (GUEST defaults to HOST, like wasmtime)
//   --env K=V               set a guest environment variable (the host env is NOT inherited)
//   --preload NAME=PATH     instantiate PATH first and satisfy NAME.* imports with its exports
//                           (like `wasmtime run --preload`); a preload that imports
//                           wasi_snapshot_preview1 gets its own WASI context on its own memory
//   --invoke FUNC           call export FUNC (no arguments) instead of _start and print
//                           its results one per line, like `wasmtime run --invoke`
//
// Exit codes mirror wasmtime 49 on unix:
//   proc_exit(n), 0 <= n < 126      -> n
//   proc_exit(n) outside [0, 126)   -> message on stderr, 1
//   a trap (WebAssembly.RuntimeError, wasm stack overflow) -> message on stderr, 134
//   any other error (bad module, missing import, bad CLI) -> message on stderr, 1
// argv[0] seen by the guest is the program path exactly as given.

import { readFileSync } from 'node:fs';
import process from 'node:process';
import v8 from 'node:v8';

// Node >= 22 warns on stderr, on every run, that WASI is experimental: that line
// is not the guest's output. Drop that one warning; pass on every other.
const warningListeners = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'ExperimentalWarning' && /\bWASI\b/.test(w.message)) return;
  for (const l of warningListeners) l(w);
});
const { WASI } = await import('node:wasi');

// Node 20's fast API calls into node:wasi read a stale memory buffer after
// the guest grows its memory, which crashes (abort or segfault) a program
// that grows memory and then writes; reproduced without p2shim.
v8.setFlagsFromString('--no-turbo-fast-api-calls');

const TRAP_EXIT = 134; // what wasmtime's CLI exits with on a trap (it aborts)

function usage(msg) {
  process.stderr.write(`node-wasi: ${msg}\n` +
    'usage: node node-wasi.mjs [--dir HOST[::GUEST]]... [--env K=V]... ' +
    '[--preload NAME=PATH]... [--invoke FUNC] prog.wasm [ARGS...]\n');
  process.exit(1);
}

function parseCli(argv) {
  const opts = { preopens: {}, env: {}, preloads: [], invoke: null, prog: null, args: [] };
  let i = 0;
  const value = (flag) => {
    // accept both `--flag value` and `--flag=value`
    const a = argv[i];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
    if (i + 1 >= argv.length) usage(`${flag} needs a value`);
    i += 1;
    return argv[i];
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { i += 1; break; }
    if (!a.startsWith('--')) break;
    const flag = a.split('=')[0];
    switch (flag) {
      case '--dir': {
        const v = value('--dir');
        const sep = v.indexOf('::');
        const host = sep < 0 ? v : v.slice(0, sep);
        const guest = sep < 0 ? v : v.slice(sep + 2);
        opts.preopens[guest] = host;
        break;
      }
      case '--env': {
        const v = value('--env');
        const eq = v.indexOf('=');
        if (eq <= 0) usage(`--env expects K=V, got ${JSON.stringify(v)}`);
        opts.env[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case '--preload': {
        const v = value('--preload');
        const eq = v.indexOf('=');
        if (eq <= 0) usage(`--preload expects NAME=PATH, got ${JSON.stringify(v)}`);
        opts.preloads.push([v.slice(0, eq), v.slice(eq + 1)]);
        break;
      }
      case '--invoke':
        opts.invoke = value('--invoke');
        break;
      case '--help':
        usage('help');
        break;
      default:
        usage(`unknown option ${a}`);
    }
  }
  if (i >= argv.length) usage('missing prog.wasm');
  opts.prog = argv[i];
  opts.args = argv.slice(i + 1);
  return opts;
}

function isTrap(e) {
  if (e instanceof WebAssembly.RuntimeError) return true;
  // V8 reports wasm stack exhaustion as a RangeError; wasmtime calls it a trap.
  return e instanceof RangeError && /call stack/i.test(String(e.message));
}

let progName = '<module>';

// Reports like wasmtime: "Error: failed to run main module `prog`", then the cause.
function fail(e, code) {
  const msg = code === TRAP_EXIT && e && e.stack ? e.stack : (e && e.message) || String(e);
  process.stderr.write(`Error: failed to run main module \`${progName}\`\n\nCaused by:\n` +
    `    ${code === TRAP_EXIT ? 'wasm trap: ' : ''}${msg.replace(/\n/g, '\n    ')}\n`);
  process.exit(code);
}

function newWasi(opts) {
  return new WASI({
    version: 'preview1',
    args: [opts.prog, ...opts.args],
    env: opts.env,
    preopens: opts.preopens,
    returnOnExit: true,
  });
}

function exitWith(code) {
  // wasmtime refuses exit statuses outside [0, 126) and exits 1.
  if (!Number.isInteger(code) || code < 0 || code >= 126) {
    fail(new Error(`exit with invalid exit status outside of [0..126): ${code}`), 1);
  }
  process.exit(code);
}

function formatResult(v) {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return String(v);
}

// Node makes stdio pipes non-blocking; the guest writes to fds 1 and 2 directly
// (uvwasi), so a full pipe would give it EAGAIN where wasmtime blocks. Make them
// blocking, as they are for wasmtime.
function blockingStdio() {
  for (const stream of [process.stdout, process.stderr]) {
    const handle = stream && stream._handle;
    if (handle && typeof handle.setBlocking === 'function') handle.setBlocking(true);
  }
}

function main() {
  blockingStdio();
  const opts = parseCli(process.argv.slice(2));
  progName = opts.prog;
  let wasi;
  let instance;
  try {
    const imports = {};
    for (const [name, path] of opts.preloads) {
      const mod = new WebAssembly.Module(readFileSync(path));
      const needsWasi = WebAssembly.Module.imports(mod)
        .some((imp) => imp.module === 'wasi_snapshot_preview1');
      const pre = needsWasi ? newWasi(opts) : null;
      const inst = new WebAssembly.Instance(mod, { ...imports, ...(pre ? pre.getImportObject() : {}) });
      if (pre) pre.initialize(inst);
      imports[name] = inst.exports;
    }
    wasi = newWasi(opts);
    const module = new WebAssembly.Module(readFileSync(opts.prog));
    instance = new WebAssembly.Instance(module, { ...imports, ...wasi.getImportObject() });
  } catch (e) {
    fail(e, isTrap(e) ? TRAP_EXIT : 1);
  }

  try {
    if (opts.invoke !== null) {
      const f = instance.exports[opts.invoke];
      if (typeof f !== 'function') fail(new Error(`export ${opts.invoke} is not a function`), 1);
      // Commands get the usual WASI setup; reactors get _initialize.
      if (instance.exports._start === undefined) wasi.initialize(instance);
      else wasi.initialize({ exports: { memory: instance.exports.memory } });
      const r = f();
      const results = Array.isArray(r) ? r : r === undefined ? [] : [r];
      for (const v of results) process.stdout.write(`${formatResult(v)}\n`);
      exitWith(0);
    }
    exitWith(wasi.start(instance));
  } catch (e) {
    fail(e, isTrap(e) ? TRAP_EXIT : 1);
  }
}

main();
