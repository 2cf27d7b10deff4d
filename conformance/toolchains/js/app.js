// A wasi:cli/command component for componentize-js (StarlingMonkey): prints its
// arguments and environment, lists the preopened directory, reads a file,
// writes one and reads it back. conformance/toolchains/run.sh runs it natively
// and through p2shim and compares stdout, stderr, exit code and files.
import { getArguments, getEnvironment } from 'wasi:cli/environment@0.2.12';
import { exit } from 'wasi:cli/exit@0.2.12';
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function readAll(dir, path) {
  const fd = dir.openAt({ symlinkFollow: true }, path, {}, { read: true });
  const chunks = [];
  let offset = 0n;
  for (;;) {
    const [bytes, end] = fd.read(4096n, offset);
    chunks.push(decoder.decode(bytes, { stream: true }));
    offset += BigInt(bytes.length);
    if (end || bytes.length === 0) break;
  }
  return chunks.join('') + decoder.decode();
}

export const run = {
  run() {
    console.log('hello from componentize-js');
    const args = getArguments();
    args.forEach((a, i) => console.log(`arg[${i}] = ${JSON.stringify(a)}`));
    for (const [k, v] of getEnvironment().sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (k.startsWith('TC_')) console.log(`env ${k} = ${JSON.stringify(v)}`);
    }
    const preopens = getDirectories();
    console.log('preopens:', JSON.stringify(preopens.map(([, p]) => p)));
    const [dir] = preopens.find(([, p]) => p === '.') ?? preopens[0];
    const names = [];
    const entries = dir.readDirectory();
    for (let e = entries.readDirectoryEntry(); e; e = entries.readDirectoryEntry()) {
      names.push(`${e.name}:${e.type}`);
    }
    console.log('cwd listing:', JSON.stringify(names.sort()));
    const text = readAll(dir, 'input.txt');
    const lines = text.split('\n').filter((l) => l.length > 0);
    console.log(`input.txt has ${text.length} chars, ${lines.length} lines`);
    console.log('first line:', lines[0]);
    const out = dir.openAt({}, 'out-js.txt', { create: true, truncate: true }, { write: true });
    out.write(encoder.encode(`written by js: ${args.slice(1).join(' ')}\n`), 0n);
    console.log('read back:', readAll(dir, 'out-js.txt').trimEnd());
    dir.createDirectoryAt('jsdir');
    console.log('input.txt size', String(dir.statAt({}, 'input.txt').size));
    try {
      dir.openAt({}, 'missing.txt', {}, { read: true });
      console.log('missing.txt opened?!');
    } catch (e) {
      console.log('missing.txt:', JSON.stringify(e.payload ?? String(e)));
    }
    console.error('to stderr');
    if (args[1] === 'fail') exit({ tag: 'err', val: undefined });
  },
};
