//! Replays a differential-fuzzing call sequence on V8 (node 20), the third
//! engine used to decide which of core-vm and wasmi is wrong on a mismatch.
//!
//! Usage: DIFF_DEBUG=1 fuzz-smoke --diff-file M.wasm $(cat M.wasm.args) 2>&1 |
//!        node --experimental-wasm-type-reflection --experimental-wasm-extended-const \
//!          conformance/v8-replay/replay.cjs M.wasm
//! (node 20 needs both flags: export types, and wasm-smith's extended
//! constant expressions; its V8 has no multi-memory, so modules with more
//! than one memory cannot be replayed there.)
//!
//! It reads the harness's `calling NAME[ARGS] on core-vm` lines from stdin,
//! makes each call on one V8 instance of M.wasm, and prints each outcome
//! (results as bits, or the trap) and then every exported global (integers
//! exactly; floats read through a JS number, so a NaN's payload may be
//! lost), to set beside the harness's mismatch line.
//!
//! Invariants: floats cross into and out of the module as bits, through a
//! wrapper module made here per export (f32 as i32, f64 as i64, with
//! `reinterpret`), because a NaN passed through a JS number may lose its
//! payload; externrefs are one JS object per harness id; funcrefs are null,
//! as the harness makes them. Imports as the harness makes them where that
//! is simple: tables null-filled, `funcref` globals null, memories of 0
//! pages; an imported function throws instead (it prints that it was
//! called, and the replay is not faithful from there: the harness's host
//! functions compute results from a hash); any other imported global or a
//! memory of more than 0 pages (drawn contents in the harness) is refused.

'use strict';
const fs = require('fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: node --experimental-wasm-type-reflection --experimental-wasm-extended-const replay.cjs M.wasm < DIFF_DEBUG-log');
  process.exit(2);
}
/// One clear line and exit status 2.
function fail(message) {
  console.error(`replay.cjs: ${message}`);
  process.exit(2);
}
let wasm;
try {
  wasm = new WebAssembly.Module(fs.readFileSync(file));
} catch (e) {
  fail(`${file}: ${e.message}`);
}
if (WebAssembly.Module.exports(wasm).some((e) => e.kind === 'function' && !e.type)) {
  fail('run node with --experimental-wasm-type-reflection');
}

// --- Imports (approximations; see the module doc) ---
const imports = {};
for (const imp of WebAssembly.Module.imports(wasm)) {
  imports[imp.module] ??= {};
  const t = imp.type;
  let value;
  if (imp.kind === 'function') {
    value = () => {
      console.log(`import ${JSON.stringify(imp.name)} called: this replay is not faithful from here`);
      throw new Error('imported function');
    };
  } else if (imp.kind === 'global' && (t.value === 'anyfunc' || t.value === 'funcref')) {
    value = new WebAssembly.Global({ value: 'anyfunc', mutable: t.mutable }, null);
  } else if (imp.kind === 'table') {
    value = new WebAssembly.Table({ element: t.element, initial: t.minimum, maximum: t.maximum });
  } else if (imp.kind === 'memory' && t.minimum === 0) {
    value = new WebAssembly.Memory({ initial: 0, maximum: t.maximum });
  } else {
    fail(`cannot make the imported ${imp.kind} ${JSON.stringify(imp.name)} as the harness does`);
  }
  imports[imp.module][imp.name] = value;
}
let instance;
try {
  instance = new WebAssembly.Instance(wasm, imports);
} catch (e) {
  fail(`instantiating ${file}: ${e.message}`);
}

// --- Wrapper modules: floats as bits ---
const code = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, externref: 0x6f, anyfunc: 0x70, funcref: 0x70 };
const bitsOf = { f32: 'i32', f64: 'i64' };
const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const vec = (items) => [...leb(items.length), ...items.flat()];
const section = (id, body) => [id, ...leb(body.length), ...body];
const functype = (ps, rs) => [0x60, ...vec(ps.map((t) => [code[t]])), ...vec(rs.map((t) => [code[t]]))];

/// A module importing the export `name` as `m.f` and exporting `call`, the
/// same function with its float parameters and results as their bits.
function wrapper(name) {
  const ty = types.get(name);
  const ps = ty.parameters, rs = ty.results;
  const wps = ps.map((t) => bitsOf[t] ?? t), wrs = rs.map((t) => bitsOf[t] ?? t);
  const body = [0x00]; // no locals
  ps.forEach((t, i) => {
    body.push(0x20, ...leb(i)); // local.get
    if (t === 'f32') body.push(0xbe); // f32.reinterpret_i32
    if (t === 'f64') body.push(0xbf); // f64.reinterpret_i64
  });
  body.push(0x10, 0x00); // call 0
  if (rs.some((t) => bitsOf[t])) {
    // Results are on the stack; move them to locals (declared after the
    // parameters), last first, converting floats.
    const locals = rs.map((t) => [1, code[t]]);
    body[0] = locals.length;
    body.splice(1, 0, ...locals.flat());
    for (let j = rs.length - 1; j >= 0; j--) body.push(0x21, ...leb(ps.length + j)); // local.set
    rs.forEach((t, j) => {
      body.push(0x20, ...leb(ps.length + j));
      if (t === 'f32') body.push(0xbc); // i32.reinterpret_f32
      if (t === 'f64') body.push(0xbd); // i64.reinterpret_f64
    });
  }
  body.push(0x0b);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([functype(ps, rs), functype(wps, wrs)])),
    ...section(2, vec([[...vec([0x6d]), ...vec([0x66]), 0x00, 0x00]])), // "m" "f" func type 0
    ...section(3, vec([[0x01]])),
    ...section(7, vec([[...vec([0x63, 0x61, 0x6c, 0x6c]), 0x00, 0x01]])), // "call" func 1
    ...section(10, vec([[...leb(body.length), ...body]])),
  ];
  return new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), {
    m: { f: instance.exports[name] },
  }).exports.call;
}
const types = new Map(
  WebAssembly.Module.exports(wasm).filter((e) => e.kind === 'function').map((e) => [e.name, e.type]),
);
const wrappers = new Map();
function wrapped(name) {
  if (!wrappers.has(name)) wrappers.set(name, wrapper(name));
  return wrappers.get(name);
}

// --- Arguments as the harness logs them (Rust Debug of its values) ---
const externs = new Map();
function arg(text) {
  const m = /^(\w+)\((.*)\)$/.exec(text);
  if (!m) fail(`cannot read the argument ${text}`);
  const [, kind, v] = m;
  switch (kind) {
    case 'I32': return Number(v) | 0;
    case 'F32': return Number(v) | 0;
    case 'I64':
    case 'F64': return BigInt.asIntN(64, BigInt(v));
    case 'FuncRef': return null;
    case 'ExternRef': {
      const id = /^Some\((\d+)\)$/.exec(v);
      if (!id) return null;
      if (!externs.has(id[1])) externs.set(id[1], { id: Number(id[1]) });
      return externs.get(id[1]);
    }
  }
  fail(`cannot read the argument ${text}`);
}
function show(t, x) {
  if (x === null) return 'null';
  if (typeof x === 'function') return 'funcref (not null)';
  if (typeof x === 'object') return `externref ${x.id ?? '(not the harness\'s)'}`;
  if (t === 'f32') return `F32(${x >>> 0})`;
  if (t === 'f64') return `F64(${BigInt.asUintN(64, x)})`;
  return `${t.toUpperCase()}(${x})`;
}

const log = fs.readFileSync(0, 'utf8');
const re = /^differential: calling (.*?)\[(.*)\] on core-vm$/gm;
let m;
while ((m = re.exec(log))) {
  const [, name, list] = m;
  if (!types.has(name)) {
    fail(`no exported function ${JSON.stringify(name)}`);
  }
  const args = list === '' ? [] : list.split(', ').map(arg);
  const ty = types.get(name);
  try {
    let r = wrapped(name)(...args);
    if (ty.results.length === 1) r = [r];
    if (ty.results.length === 0) r = [];
    console.log(`call ${JSON.stringify(name)}[${list}]: Ok([${ty.results.map((t, i) => show(t, r[i])).join(', ')}])`);
  } catch (e) {
    console.log(`call ${JSON.stringify(name)}[${list}]: trap (${e.message})`);
  }
}
for (const e of WebAssembly.Module.exports(wasm)) {
  if (e.kind !== 'global') continue;
  const v = instance.exports[e.name].value;
  const t = e.type.value;
  let shown;
  if (t === 'f32') { const b = new DataView(new ArrayBuffer(4)); b.setFloat32(0, v); shown = `F32(${b.getUint32(0)}) (may have lost a NaN payload)`; }
  else if (t === 'f64') { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, v); shown = `F64(${b.getBigUint64(0)}) (may have lost a NaN payload)`; }
  else shown = show(t, v);
  console.log(`global ${JSON.stringify(e.name)}: ${shown}`);
}
