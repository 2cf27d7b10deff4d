// One run of p2shim.wasm in a Web Worker, over @bjorn3/browser_wasi_shim.
//
// The page posts {shim: WebAssembly.Module, app: {name, bytes}, args, env,
// stdin, folder: null | [[name, bytes], ...]} and gets back, as they happen,
// {type: 'write', fd: 1|2, bytes} for every write of the program, then
// {type: 'exit', code, trap, tree, ms}. A worker keeps the page responsive, so
// the output shows while the program runs.
//
// The program's file system is in memory: the component sits alone in a folder
// preopened as /p2shim-app, which the shim reads it from and then closes
// (--hide-preopen), so the program does not see it; with `folder` set, the
// program also gets an in-memory folder preopened as `.` (fd 3), whose files
// come back in `tree` after the run. The exit code is the program's status, or
// 134 for a trap (what `wasmtime run` exits with).

import {
  WASI, File, OpenFile, ConsoleStdout, PreopenDirectory, Directory,
} from './vendor/browser_wasi_shim/index.js';

const APP_DIR = '/p2shim-app';
const TRAP_EXIT = 134;

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

onmessage = async ({ data: job }) => {
  const write = (fd) => new ConsoleStdout((bytes) => {
    postMessage({ type: 'write', fd, bytes: bytes.slice() });
  });
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
  fds.push(new PreopenDirectory(APP_DIR, new Map([[job.app.name, new File(job.app.bytes, { readonly: true })]])));
  const argv = ['p2shim.wasm', '--argv0', job.app.name, '--hide-preopen', APP_DIR,
    `${APP_DIR}/${job.app.name}`, ...job.args];
  const wasi = new WASI(argv, job.env, fds);
  // browser_wasi_shim 0.4.2's args_sizes_get counts UTF-16 units, not UTF-8
  // bytes, so a non-ASCII argument overflows the buffer args_get fills
  // (environ_sizes_get counts right). Count bytes.
  wasi.wasiImport.args_sizes_get = (argc, size) => {
    const view = new DataView(wasi.inst.exports.memory.buffer);
    const enc = new TextEncoder();
    view.setUint32(argc, wasi.args.length, true);
    view.setUint32(size, wasi.args.reduce((n, a) => n + enc.encode(a).length + 1, 0), true);
    return 0;
  };
  const t0 = performance.now();
  let code;
  let trap = null;
  try {
    const instance = await WebAssembly.instantiate(job.shim, {
      wasi_snapshot_preview1: wasi.wasiImport,
    });
    code = wasi.start(instance);
  } catch (e) {
    trap = String(e && e.stack ? e.stack : e);
    code = e instanceof WebAssembly.RuntimeError || e instanceof RangeError ? TRAP_EXIT : 1;
  }
  const ms = performance.now() - t0;
  postMessage({ type: 'exit', code, trap, ms, tree: folder ? tree(folder.dir) : null });
};
