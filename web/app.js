// The page's logic: compile p2shim.wasm once, let the user pick or drop a
// component, and run it in a fresh worker (worker.js) per run, lowered (the
// "lowered" box, on by default) or in p2shim's interpreter, showing stdout and
// stderr as the program writes them. A lowered module is kept for the page's
// life, by the SHA-256 of the component, so a component is lowered once.
//
// For tests (web/test.mjs) the page keeps the last run's exact bytes in
// `window.p2shim.last` ({stdout, stderr: Uint8Array, code, trap, tree, ms (the
// whole run), runMs (the program's own, without the lowering), mode: 'lowered'
// | 'interpreter', lowerMs: null | ms, notice: null | text}) and its load
// time in `window.p2shim.loadMs`; `document.body.dataset.state` is `loading`,
// `ready`, `running` or `done`.

const $ = (id) => document.getElementById(id);
const state = (s) => { document.body.dataset.state = s; };
state('loading');

const t0 = performance.now();
const p2shim = { module: null, loadMs: null, last: null, app: null, folderFiles: [], lowered: new Map() };
window.p2shim = p2shim;

/** Splits a command line into words the way a POSIX shell quotes them. */
export function shellWords(line) {
  const words = [];
  let word = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word = word ?? '';
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) i++;
        word += line[i];
      }
      if (i >= line.length) throw new Error('unterminated double quote');
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

async function loadShim() {
  try {
    p2shim.module = await WebAssembly.compileStreaming(fetch('p2shim.wasm'));
    p2shim.loadMs = performance.now() - t0;
    $('status').textContent = `p2shim.wasm ready (${p2shim.loadMs.toFixed(0)} ms); choose a component`;
    state('ready');
    updateRun();
  } catch (e) {
    $('status').textContent = `cannot load p2shim.wasm: ${e}`;
    state('error');
  }
}

function updateRun() {
  $('run').disabled = !(p2shim.module && p2shim.app) || document.body.dataset.state === 'running';
}

async function choose(file) {
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const key = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  p2shim.app = { name: file.name, bytes, key };
  $('chosen').textContent = `${file.name} (${p2shim.app.bytes.length.toLocaleString()} bytes)`;
  updateRun();
}

$('file').addEventListener('change', (e) => choose(e.target.files[0]));
$('folder-files').addEventListener('change', async (e) => {
  p2shim.folderFiles = await Promise.all([...e.target.files].map(
    async (f) => [f.name, new Uint8Array(await f.arrayBuffer())]));
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  choose(e.dataTransfer.files[0]);
});

function run() {
  let args;
  try {
    args = shellWords($('args').value);
  } catch (e) {
    $('status').textContent = `arguments: ${e.message}`;
    return;
  }
  const env = $('env').value.split('\n').filter((l) => l.includes('='));
  const stdin = new TextEncoder().encode($('stdin').value);
  const folder = $('folder').checked ? p2shim.folderFiles : null;
  const mode = $('lowered').checked ? 'lowered' : 'interpreter';
  const app = p2shim.app;
  let lowerMs = null;
  let notice = null;
  const out = { 1: [], 2: [] };
  const pre = { 1: $('stdout'), 2: $('stderr') };
  const dec = { 1: new TextDecoder(), 2: new TextDecoder() };
  pre[1].textContent = '';
  pre[2].textContent = '';
  $('files').textContent = '';
  $('status').textContent = `running ${p2shim.app.name}…`;
  state('running');
  updateRun();
  const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  const started = performance.now();
  worker.onmessage = ({ data: m }) => {
    if (m.type === 'lowered') {
      p2shim.lowered.set(app.key, m.module);
      lowerMs = m.ms;
      $('status').textContent = `lowered ${app.name} in ${m.ms.toFixed(0)} ms; running…`;
      return;
    }
    if (m.type === 'notice') {
      notice = m.text;
      $('status').textContent = `${m.text}…`;
      return;
    }
    if (m.type === 'write') {
      out[m.fd].push(m.bytes);
      pre[m.fd].textContent += dec[m.fd].decode(m.bytes, { stream: true });
      return;
    }
    for (const fd of [1, 2]) pre[fd].textContent += dec[fd].decode();
    worker.terminate();
    const join = (chunks) => {
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      chunks.reduce((at, c) => { all.set(c, at); return at + c.length; }, 0);
      return all;
    };
    p2shim.last = { stdout: join(out[1]), stderr: join(out[2]), code: m.code, trap: m.trap, tree: m.tree,
      ms: performance.now() - started, runMs: m.ms, mode: m.mode, lowerMs, notice };
    const how = m.mode === 'lowered'
      ? (lowerMs === null ? 'lowered (kept from an earlier run)' : `lowered in ${lowerMs.toFixed(0)} ms`)
      : (notice ?? 'in the interpreter');
    const trap = m.trap ? ` (${m.trap.split('\n')[0]})` : '';
    $('status').textContent = `${app.name} exited with ${m.code}${trap} `
      + `after ${p2shim.last.ms.toFixed(0)} ms, the program ${m.ms.toFixed(0)} ms; ${how}`;
    if (m.tree) {
      $('files').textContent = 'the folder after the run: ' + (m.tree.map(([p, v]) =>
        (v === 'dir' ? `${p}/` : `${p} (${v.length} bytes)`)).join(', ') || 'empty');
    }
    state('done');
    updateRun();
  };
  worker.onerror = (e) => {
    $('status').textContent = `worker failed: ${e.message}`;
    state('done');
    updateRun();
  };
  worker.postMessage({ shim: p2shim.module, app, args, env, stdin, folder, mode,
    lowered: mode === 'lowered' ? (p2shim.lowered.get(app.key) ?? null) : null });
}
$('run').addEventListener('click', run);

loadShim();
