// One run of a component in a Web Worker, over @bjorn3/browser_wasi_shim:
// lowered (the default) or by p2shim.wasm's interpreter.
//
// The page posts {shim: WebAssembly.Module, app: {name, bytes}, args, env,
// stdin, folder: null | [[name, bytes], ...], mode: 'lowered' | 'interpreter',
// lowered: null | WebAssembly.Module} and gets back, as they happen,
// {type: 'lowered', module, ms} once a lowering succeeded (the page keeps the
// module for the next run of the same component), {type: 'notice', text} when
// the component cannot be lowered, {type: 'write', fd: 1|2, bytes} for every
// write of the program, then {type: 'exit', code, trap, tree, ms, mode}, mode
// being how the program ran. A worker keeps the page responsive, so the output
// shows while the program runs.
//
// Lowered: `p2shim.wasm lower app.wasm -o app.p1.wasm` runs first, over its own
// in-memory folders (the component's, and one for the output), and the p1 module it writes runs on the browser's own
// engine with the program's arguments (argv[0] the component's name, as
// `wasmtime run` gives it). A component that cannot be lowered (exit 1 and one
// line naming the construct) runs in the interpreter instead, with a notice;
// so does nothing else: a lowering that fails otherwise is the run's failure.
//
// Interpreter: the component sits alone in a folder preopened as
// /p2shim-app, which the shim reads it from and then closes (--hide-preopen),
// so the program does not see it.
//
// Either way, with `folder` set the program gets an in-memory folder
// preopened as `.` (fd 3), whose files come back in `tree` after the run. The
// exit code is the program's status, or 134 for a trap (what `wasmtime run`
// exits with).

import {
  WASI, File, OpenFile, ConsoleStdout, PreopenDirectory, Directory,
} from './vendor/browser_wasi_shim/index.js';

const APP_DIR = '/p2shim-app';
const TRAP_EXIT = 134;
const OUT_DIR = '/p2shim-out';
const LOWERED = 'app.p1.wasm';

// The in-memory tree under `dir`: [path, 'dir' | bytes] sorted by path.
function tree(dir, prefix = '') {
  const out = [];
  for (const [name, entry] of dir.contents) {
    const path = prefix + name;
    if (entry instanceof Directory) {
      out.push([path, 'dir'], ...tree(entry, `${path}/`));
    } else if (entry instanceof File) {
      out.push([path, entry.data.slice()]);
    }
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// A WASI instance over `fds`. browser_wasi_shim 0.4.2's args_sizes_get counts
// UTF-16 units, not UTF-8 bytes, so a non-ASCII argument overflows the buffer
// args_get fills (environ_sizes_get counts right). Count bytes.
function makeWasi(argv, env, fds) {
  const wasi = new WASI(argv, env, fds);
  wasi.wasiImport.args_sizes_get = (argc, size) => {
    const view = new DataView(wasi.inst.exports.memory.buffer);
    const enc = new TextEncoder();
    view.setUint32(argc, wasi.args.length, true);
    view.setUint32(size, wasi.args.reduce((n, a) => n + enc.encode(a).length + 1, 0), true);
    return 0;
  };
  return wasi;
}

// Runs `module` as a p1 command: {code, trap}.
async function start(module, wasi) {
  try {
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
    return { code: wasi.start(instance), trap: null };
  } catch (e) {
    const trap = String(e && e.stack ? e.stack : e);
    return { code: e instanceof WebAssembly.RuntimeError || e instanceof RangeError ? TRAP_EXIT : 1, trap };
  }
}

// `p2shim.wasm lower`: {module} or, when p2shim refuses the component, {refused: its line}.
async function lower(job) {
  const err = [];
  const dir = new PreopenDirectory(APP_DIR,
    new Map([[job.app.name, new File(job.app.bytes, { readonly: true })]]));
  // The output in a folder of its own: the component's name may be LOWERED too.
  const outDir = new PreopenDirectory(OUT_DIR, new Map());
  const wasi = makeWasi(['p2shim.wasm', 'lower', `${APP_DIR}/${job.app.name}`, '-o', `${OUT_DIR}/${LOWERED}`], [], [
    new OpenFile(new File(new Uint8Array())),
    new ConsoleStdout(() => {}),
    new ConsoleStdout((bytes) => err.push(bytes.slice())),
    dir,
    outDir,
  ]);
  const { code, trap } = await start(job.shim, wasi);
  const text = new TextDecoder().decode(new Uint8Array(err.flatMap((b) => [...b]))).trim();
  const out = outDir.dir.contents.get(LOWERED);
  if (code === 0 && out instanceof File) {
    return { module: await WebAssembly.compile(out.data) };
  }
  if (code === 1 && !trap && !out) {
    return { refused: text.split('\n')[0].replace(/^Error: /, '').replaceAll(`${APP_DIR}/`, '') };
  }
  throw new Error(`p2shim lower failed (exit ${code}): ${trap ?? text}`);
}

onmessage = async ({ data: job }) => {
  const write = (fd) => new ConsoleStdout((bytes) => {
    postMessage({ type: 'write', fd, bytes: bytes.slice() });
  });
  const t0 = performance.now();
  let lowered = job.mode === 'lowered' ? job.lowered : null;
  if (job.mode === 'lowered' && !lowered) {
    try {
      const r = await lower(job);
      if (r.module) {
        lowered = r.module;
        postMessage({ type: 'lowered', module: lowered, ms: performance.now() - t0 });
      } else {
        postMessage({ type: 'notice', text: `not lowered: ${r.refused}; running in the interpreter` });
      }
    } catch (e) {
      postMessage({ type: 'exit', code: 1, trap: String(e), ms: performance.now() - t0, mode: 'lowered', tree: null });
      return;
    }
  }
  const fds = [
    new OpenFile(new File(job.stdin ?? new Uint8Array())),
    write(1),
    write(2),
  ];
  let folder = null;
  if (job.folder) {
    folder = new PreopenDirectory('.', new Map(job.folder.map(([n, b]) => [n, new File(b)])));
    fds.push(folder);
  }
  const t1 = performance.now();
  let r;
  if (lowered) {
    r = await start(lowered, makeWasi([job.app.name, ...job.args], job.env, fds));
  } else {
    fds.push(new PreopenDirectory(APP_DIR, new Map([[job.app.name, new File(job.app.bytes, { readonly: true })]])));
    const argv = ['p2shim.wasm', '--argv0', job.app.name, '--hide-preopen', APP_DIR,
      `${APP_DIR}/${job.app.name}`, ...job.args];
    r = await start(job.shim, makeWasi(argv, job.env, fds));
  }
  postMessage({ type: 'exit', code: r.code, trap: r.trap, ms: performance.now() - t1,
    mode: lowered ? 'lowered' : 'interpreter', tree: folder ? tree(folder.dir) : null });
};
