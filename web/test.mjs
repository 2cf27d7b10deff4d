// The browser test: web/serve.py serves the page, puppeteer-core drives Debian's
// Chromium (headless, a new empty profile) through it as a user would (choose
// the component, type arguments and environment, click Run), and each run's
// stdout, stderr and exit status must be the bytes native wasmtime gives. Every
// case runs twice: in p2shim's interpreter (case NAME:N) and lowered (NAME:N@lowered,
// the page's default), where the page must have lowered it: a run that fell back to
// the interpreter fails.
//
//   node-current web/test.mjs [--shim target/p2shim.wasm] [--chromium /usr/bin/chromium]
//        [--programs p2-args,...] [--screenshot web/screenshot.png] [--json PATH]
//
// Cases:
//   * web/refused.wat, a component `p2shim lower` refuses (a core module instantiated
//     twice): asked to lower it, the page must say why and run it in the interpreter;
//   * the p2 programs of conformance/programs that need no folder (PROGRAMS),
//     every argument set, run natively as `wasmtime run --env .. app.wasm ARGS`
//     and in the page without its in-memory folder;
//   * the componentize-py and componentize-js components (target/toolchains/,
//     scripts/install-toolchains.sh) and examples/hello-p1 built as a component,
//     run natively with `--dir .` in a folder holding input.txt and in the page
//     with its in-memory folder holding the same file; the files left behind
//     must match too.
// stderr is compared up to the host's error banner, as conformance/programs/run.sh
// does. web/expected-failures.txt lists `NAME:N  # reason`; a listed case that
// passes fails the run. The hello run's page load + run time is printed, its
// screenshot saved (--screenshot), and a JSON report written
// (default target/conformance/browser.json).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, readdirSync, statSync,
  existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const WEB = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(WEB, '..');
const TARGET = process.env.CARGO_TARGET_DIR || join(REPO, 'target');
const PROGRAMS = ['p2-args', 'p2-env', 'p2-exit', 'p2-nomem', 'p2-run', 'p2-time'];
const BANNER = /^(Error: failed to run main module|Error: failed during execution|Exception: )/m;

function opt(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const shim = resolve(opt('shim', join(REPO, 'target', 'p2shim.wasm')));
const chromium = opt('chromium', '/usr/bin/chromium');
const screenshot = opt('screenshot', null);
const jsonPath = resolve(opt('json', join(REPO, 'target', 'conformance', 'browser.json')));
const only = opt('programs', null);
const wasmtime = process.env.WASMTIME || join(REPO, 'target', 'tools', 'bin', 'wasmtime');
const work = mkdtempSync(join(tmpdir(), 'p2shim-web-'));

const expected = new Map(readFileSync(join(WEB, 'expected-failures.txt'), 'utf8').split('\n')
  .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  .map((l) => { const [k, ...r] = l.split('#'); return [k.trim(), r.join('#').trim()]; }));

// Shell-quoted lines of an args file (as conformance/programs/run.sh reads them).
function argSets(dir) {
  const f = join(dir, 'args');
  if (!existsSync(f)) return ['', '3', "0 x 'y z'"];
  return readFileSync(f, 'utf8').replace(/\n$/, '').split('\n').filter((l) => !l.startsWith('#'));
}

// Builds a program as conformance/programs/run.sh does: its build.sh if it has one
// (writing its component into TARGET), else `cargo build`.
function build(dir, target) {
  const cmd = existsSync(join(dir, 'build.sh'))
    ? ['bash', ['build.sh']]
    : ['cargo', ['build', '-q', '--release', '--target', target]];
  const r = spawnSync(cmd[0], cmd[1], { cwd: dir, stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: TARGET } });
  if (r.status !== 0) throw new Error(`${cmd[0]} ${cmd[1].join(' ')} in ${dir} failed`);
}

function component(name, dir) {
  const rel = join(TARGET, 'wasm32-wasip2', 'release');
  for (const f of [`${name}.wasm`, `${name.replaceAll('-', '_')}.wasm`]) {
    if (existsSync(join(rel, f))) return join(rel, f);
  }
  throw new Error(`no component for ${dir}`);
}

// The folder's files after a run: [path, 'dir' | base64] sorted, as the page reports them.
function snapshot(dir, prefix = '') {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push([prefix + name, 'dir'], ...snapshot(p, `${prefix + name}/`));
    else out.push([prefix + name, readFileSync(p).toString('base64')]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// The native p2 run: wasmtime with the words of the args line (bash does the quoting).
function native(c) {
  // The program beside, not in, the folder it gets as `.` (as in the page).
  const d = mkdtempSync(join(work, 'native-'));
  const data = join(d, 'data');
  mkdirSync(data);
  copyFileSync(c.native ?? c.wasm, join(d, 'app.wasm'));
  for (const [n, b] of c.files ?? []) writeFileSync(join(data, n), b);
  const env = c.env.flatMap((kv) => ['--env', kv]);
  const dirs = c.folder ? ['--dir', 'data::.'] : [];
  const pre = c.native ? ['--allow-precompiled'] : [];
  const script = `exec "$0" run ${pre.join(' ')} "$@" app.wasm ${c.args}`;
  const r = spawnSync('bash', ['-c', script, wasmtime, ...env, ...dirs], { cwd: d, input: '',
    maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status, tree: c.folder ? snapshot(data) : null };
}

function guestErr(buf) {
  const s = Buffer.from(buf).toString('latin1');
  const m = BANNER.exec(s);
  return m ? s.slice(0, m.index) : s;
}

async function runInPage(page, c, mode) {
  // The page reads a chosen file asynchronously, and every case's file is app.wasm: the
  // last case's app and folder files are cleared first, so a wait cannot end on them.
  // The inputs are emptied too: choosing the files one holds again fires no change.
  await page.evaluate(() => {
    window.p2shim.app = null; window.p2shim.folderFiles = null;
    document.getElementById('file').value = '';
    document.getElementById('folder-files').value = '';
  });
  const input = await page.$('#file');
  await input.uploadFile(c.upload);
  await page.waitForFunction((n) => window.p2shim.app?.bytes.length === n, {}, statSync(c.upload).size);
  // Filled in as pasted text: typing would turn a tab in an argument into a focus change.
  const set = (sel, value) => page.$eval(sel, (el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
  await set('#args', c.args);
  await set('#env', c.env.join('\n'));
  await page.$eval('#folder', (el, on) => { el.checked = on; }, !!c.folder);
  await page.$eval('#lowered', (el, on) => { el.checked = on; }, mode === 'lowered');
  const ff = await page.$('#folder-files');
  if (c.files?.length) {
    const paths = c.files.map(([n, b]) => { const p = join(c.filesDir, n); writeFileSync(p, b); return p; });
    await ff.uploadFile(...paths);
    await page.waitForFunction((k) => window.p2shim.folderFiles?.length === k, {}, paths.length);
  } else {
    await page.$eval('#folder-files', (el) => { el.value = ''; el.dispatchEvent(new Event('change')); });
    await page.waitForFunction(() => window.p2shim.folderFiles?.length === 0);
  }
  await page.waitForFunction(() => !document.getElementById('run').disabled);
  await page.click('#run');
  await page.waitForFunction(() => document.body.dataset.state === 'done', { timeout: 600_000 });
  return page.evaluate(() => {
    const l = window.p2shim.last;
    const b64 = (u8) => { let s = ''; for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000)); return btoa(s); };
    return { stdout: b64(l.stdout), stderr: b64(l.stderr), code: l.code, trap: l.trap, ms: l.ms,
      runMs: l.runMs, mode: l.mode, lowerMs: l.lowerMs, notice: l.notice,
      tree: l.tree && l.tree.map(([p, v]) => [p, v === 'dir' ? 'dir' : b64(v)]) };
  });
}

function differences(c, n, b, mode) {
  const why = [];
  if (c.refused && mode === 'lowered') {
    // The one case the page must not lower: its notice names the construct.
    if (b.mode !== 'interpreter' || !c.refused.test(b.notice ?? '')) {
      why.push(`not the interpreter with a notice naming the construct: ${b.mode}, ${b.notice}`);
    }
  } else if (b.mode !== mode) why.push(`ran in the ${b.mode}, not ${mode}${b.notice ? ` (${b.notice})` : ''}`);
  const bout = Buffer.from(b.stdout, 'base64');
  const berr = Buffer.from(b.stderr, 'base64');
  if (n.code !== b.code) why.push(`exit ${b.code}, native ${n.code}`);
  if (!bout.equals(n.stdout)) {
    let i = 0;
    while (i < bout.length && i < n.stdout.length && bout[i] === n.stdout[i]) i++;
    const at = (x) => JSON.stringify(x.subarray(Math.max(0, i - 20), i + 40).toString());
    why.push(`stdout differs at byte ${i}: page ${at(bout)}, native ${at(n.stdout)}`);
  }
  if (guestErr(berr) !== guestErr(n.stderr)) why.push('stderr differs');
  if (n.tree && JSON.stringify(n.tree) !== JSON.stringify(b.tree)) why.push('files differ');
  return why;
}

async function main() {
  if (!existsSync(shim)) throw new Error(`${shim} missing (make shim)`);
  const cases = [];
  const selected = only ? only.split(',') : PROGRAMS;
  for (const p of selected) {
    const dir = join(REPO, 'conformance', 'programs', p);
    build(dir, 'wasm32-wasip2');
    const env = ['P2T_A=1', ...(existsSync(join(dir, 'env'))
      ? readFileSync(join(dir, 'env'), 'utf8').split('\n').filter(Boolean) : [])];
    argSets(dir).forEach((args, i) => cases.push({ name: `${p}:${i + 1}`, wasm: component(p, dir), args, env }));
  }
  const input = [['input.txt', Buffer.from('line one\nline two: ünï\n')]];
  if (!only) {
    const refused = join(work, 'refused.wasm');
    const wasmTools = process.env.WASM_TOOLS || join(REPO, 'target', 'tools', 'bin', 'wasm-tools');
    const r = spawnSync(wasmTools, ['parse', join(WEB, 'refused.wat'), '-o', refused], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('wasm-tools parse web/refused.wat failed');
    cases.push({ name: 'refused:1', wasm: refused, args: '', env: [],
      refused: /^not lowered: `app\.wasm` cannot be lowered: core module \d+ \(`twice`\) is instantiated more than once; running in the interpreter$/ });
    build(join(REPO, 'examples', 'hello-p1'), 'wasm32-wasip2');
    cases.unshift({ name: 'hello', wasm: join(TARGET, 'wasm32-wasip2', 'release', 'hello-p1.wasm'),
      args: "one 'two words'", env: ['GREETING=hi from the browser'], folder: true, files: [], hello: true });
    for (const t of ['python', 'js']) {
      const wasm = join(TARGET, 'toolchains', `${t}.wasm`);
      if (!existsSync(wasm)) throw new Error(`${wasm} missing (scripts/install-toolchains.sh)`);
      const cw = join(work, `${t}.cwasm`);
      const r = spawnSync(wasmtime, ['compile', wasm, '-o', cw], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`wasmtime compile ${wasm} failed`);
      // The componentize-* samples' hello: arguments and environment printed,
      // input.txt read, a file written.
      cases.push({ name: `${t}:1`, wasm, native: cw, args: "a 'b c' '' 'ünï cödé'",
        env: ['TC_GREETING=héllo wörld', 'TC_EQ=k=v=w'], folder: true, files: input });
    }
  }

  const server = spawn('python3', [join(WEB, 'serve.py'), '--port', '0', '--shim', shim],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((ok, fail) => {
    server.stdout.on('data', (d) => { const m = /serving (\S+)/.exec(String(d)); if (m) ok(m[1]); });
    server.on('exit', (c) => fail(new Error(`serve.py exited ${c}`)));
  });
  const profile = mkdtempSync(join(work, 'profile-'));
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true, userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results = [];
  let pass = 0; let fail = 0; let xfail = 0;
  const byMode = { interpreter: { pass: 0, fail: 0, xfail: 0 }, lowered: { pass: 0, fail: 0, xfail: 0 } };
  try {
    const version = await browser.version();
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    page.on('pageerror', (e) => console.error(`page error: ${e}`));
    for (const c of cases) {
      c.upload = join(mkdtempSync(join(work, 'up-')), 'app.wasm');
      copyFileSync(c.wasm, c.upload);
      c.filesDir = mkdtempSync(join(work, 'files-'));
      const n = native(c);
      for (const mode of ['interpreter', 'lowered']) {
        const name = mode === 'lowered' ? `${c.name}@lowered` : c.name;
        const t0 = performance.now();
        if ((c.hello && mode === 'interpreter') || results.length === 0) {
          await page.goto(url, { waitUntil: 'load' });
          await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state));
        }
        const b = await runInPage(page, c, mode);
        const why = differences(c, n, b, mode);
        const rec = { case: name, mode: b.mode, args: c.args, ms: Math.round(b.ms), run_ms: Math.round(b.runMs),
          differences: why };
        if (b.lowerMs !== null && b.lowerMs !== undefined) rec.lower_ms = Math.round(b.lowerMs);
        if (c.hello) {
          rec.load_and_run_ms = Math.round(performance.now() - t0);
          rec.shim_load_ms = Math.round(await page.evaluate(() => window.p2shim.loadMs));
          console.log(`hello (${mode}): ${mode === 'interpreter' ? 'page load + ' : ''}run ${rec.load_and_run_ms} ms `
            + `(p2shim.wasm fetched and compiled in ${rec.shim_load_ms} ms at page load, `
            + `${rec.lower_ms !== undefined ? `the lowering ${rec.lower_ms} ms, ` : ''}the program ${rec.run_ms} ms, `
            + `the whole run ${rec.ms} ms)`);
          if (screenshot && mode === 'lowered') {
            mkdirSync(dirname(resolve(screenshot)), { recursive: true });
            await page.screenshot({ path: screenshot, fullPage: true });
            console.log(`screenshot: ${screenshot}`);
          }
        }
        const listed = expected.has(name);
        const what = `chromium/${name}`;
        if (why.length === 0 && !listed) { pass++; rec.status = 'pass'; console.log(`ok    ${what} (${c.args})`); }
        else if (why.length === 0) { fail++; rec.status = 'xpass'; console.log(`XPASS ${what} (listed in web/expected-failures.txt)`); }
        else if (listed) { xfail++; rec.status = 'xfail'; console.log(`xfail ${what}: ${why.join('; ')}`); }
        else { fail++; rec.status = 'fail'; console.log(`FAIL  ${what} (${c.args}): ${why.join('; ')}`); if (b.trap) console.log(b.trap); }
        byMode[mode][rec.status === 'xpass' ? 'fail' : rec.status]++;
        results.push(rec);
      }
    }
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, JSON.stringify({ kind: 'browser', host: 'chromium', version,
      time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), summary: { pass, fail, xfail },
      summary_by_mode: byMode, results }, null, 1));
  } finally {
    await browser.close();
    server.kill();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`browser (chromium): ${pass} passed, ${fail} failed, ${xfail} expected failures `
    + `(interpreter ${byMode.interpreter.pass}/${Object.values(byMode.interpreter).reduce((a, b) => a + b)}, `
    + `lowered ${byMode.lowered.pass}/${Object.values(byMode.lowered).reduce((a, b) => a + b)})`);
  process.exit(fail === 0 ? 0 : 1);
}

main().catch((e) => { console.error(`web/test.mjs: ${e.stack || e}`); process.exit(2); });
