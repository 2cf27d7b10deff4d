//! Shared by the lower crate's tests: the stand-in WASI library (WAT, the
//! contract of the crate docs, until the real library is linked), a
//! runner for lowered modules on core-vm with the few p1 functions the
//! stand-in imports, recording stdout, stderr and the exit status, and a
//! runner for the same component on native wasmtime to compare with.

#![allow(dead_code)]

use core_vm::{Caller, Config, Engine, FuncType, Linker, Module, Store, Trap, Val, ValType};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The stand-in library, assembled.
pub fn stand_in_library() -> Vec<u8> {
    wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/stand-in-lib.wat"
    ))
    .expect("the stand-in library assembles")
}

/// The imports of `wasi:io/error`, `wasi:io/streams` (with
/// `blocking-write-and-flush`) and `wasi:cli/stdout`, as wit-component
/// writes them, naming the types `$error-type` and `$os`.
pub const STDOUT_IMPORTS: &str = r#"(import "wasi:io/error@0.2.0" (instance $error (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error-type))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error-type (type $e0))
    (export "error" (type $e (eq $e0)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $err (eq $se)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $err)))))))
  (alias export $streams "output-stream" (type $os))
  (import "wasi:cli/stdout@0.2.3" (instance $stdout
    (alias outer 1 $os (type $os2))
    (export "output-stream" (type $os3 (eq $os2)))
    (export "get-stdout" (func (result (own $os3))))))"#;

/// Core module `$libc`: a memory and a bump `cabi_realloc` (its heap
/// from 4096).
pub const LIBC: &str = r#"(core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))"#;

/// WASI imports with their real 0.2.0 types (as wit-component writes
/// them), a `libc` core instance (memory + bump `cabi_realloc`), the
/// lowered functions bundled as core instance `$wasi` (`write`,
/// `get-stdout`, `drop`, `get-arguments`, `exit`), then `body`, which must
/// define core instance `$main` exporting `run`, lifted as
/// `wasi:cli/run@0.2.0#run` (with `post-return` if `post` is given).
pub fn component(body: &str, post: Option<&str>) -> String {
    let post = post
        .map(|p| format!("(post-return (core func $main \"{p}\"))"))
        .unwrap_or_default();
    format!(
        r#"(component
  {STDOUT_IMPORTS}
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-arguments" (func (result (list string))))))
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))))
  {LIBC}
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "cabi_realloc" (core func $realloc))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $mem)))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $drop (canon resource.drop $os))
  (core func $get-arguments (canon lower (func $env "get-arguments") (memory $mem) (realloc $realloc)))
  (core func $exit (canon lower (func $exit "exit")))
  (core instance $wasi
    (export "write" (func $write)) (export "get-stdout" (func $get-stdout))
    (export "drop" (func $drop)) (export "get-arguments" (func $get-arguments))
    (export "exit" (func $exit)))
  {body}
  (func $run (result (result)) (canon lift (core func $main "run") {post}))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))
)"#
    )
}

/// The imports of [`PRINT`].
pub const PRINT_IMPORTS: &str = r#"
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "drop" (func $drop (param i32)))"#;

/// A core module function `$print (ptr len)`, writing to stdout.
pub const PRINT: &str = r#"
    (func $print (param $ptr i32) (param $len i32)
      (local $s i32)
      (local.set $s (call $get-stdout))
      (call $write (local.get $s) (local.get $ptr) (local.get $len) (i32.const 8))
      (call $drop (local.get $s)))"#;

/// Core module `$main` (instantiated as `$main`): `imports`, [`PRINT`],
/// then `body`.
pub fn main_module_with(imports: &str, body: &str) -> String {
    format!(
        r#"(core module $main
    (import "libc" "memory" (memory 1))
    {PRINT_IMPORTS}
    {imports}
    {PRINT}
    {body})
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "wasi" (instance $wasi))))"#
    )
}

pub fn main_module(body: &str) -> String {
    main_module_with("", body)
}

/// Lowers a component given as WAT with the stand-in library.
pub fn lower_wat(component: &str) -> Result<lower::Lowered, lower::LowerError> {
    let bytes = wat::parse_str(component).expect("the test component assembles");
    lower::lower(&bytes, &stand_in_library())
}

/// How a run ended.
#[derive(Debug, PartialEq)]
pub enum Exit {
    /// `_start` returned.
    Returned,
    /// `proc_exit(code)`.
    Code(i32),
    /// A trap, with its message.
    Trap(String),
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit: Exit,
}

#[derive(Debug)]
struct ExitCode(i32);
impl std::fmt::Display for ExitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for ExitCode {}

#[derive(Default)]
struct Io {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    args: Vec<Vec<u8>>,
}

fn memory<'a>(caller: &'a mut Caller<'_, Io>) -> (&'a mut [u8], &'a mut Io) {
    let mem = caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .expect("a lowered module exports its memory");
    caller.memory_and_data(mem)
}

fn i32_at(mem: &[u8], at: u32) -> u32 {
    let at = at as usize;
    u32::from_le_bytes(mem[at..at + 4].try_into().unwrap())
}

fn set_i32(mem: &mut [u8], at: u32, v: u32) {
    let at = at as usize;
    mem[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The p1 functions the stand-in library imports, on an [`Io`].
fn p1_functions(linker: &mut Linker<Io>) {
    let p1 = "wasi_snapshot_preview1";
    let ty = |p: &[ValType], r: &[ValType]| FuncType::new(p.iter().copied(), r.iter().copied());
    use ValType::I32;
    linker.func_new(p1, "fd_write", ty(&[I32; 4], &[I32]), |mut c, a, r| {
        let [Val::I32(fd), Val::I32(iovs), Val::I32(n), Val::I32(out)] = a else {
            unreachable!()
        };
        let (mem, io) = memory(&mut c);
        let mut total = 0;
        for i in 0..*n as u32 {
            let p = i32_at(mem, *iovs as u32 + 8 * i);
            let len = i32_at(mem, *iovs as u32 + 8 * i + 4);
            let bytes = &mem[p as usize..(p + len) as usize];
            match fd {
                1 => io.stdout.extend_from_slice(bytes),
                2 => io.stderr.extend_from_slice(bytes),
                _ => {
                    r[0] = Val::I32(8); // badf
                    return Ok(());
                }
            }
            total += len;
        }
        set_i32(mem, *out as u32, total);
        r[0] = Val::I32(0);
        Ok(())
    });
    linker.func_new(p1, "proc_exit", ty(&[I32], &[]), |_, a, _| {
        let Val::I32(code) = a[0] else { unreachable!() };
        Err(Trap::host(ExitCode(code)))
    });
    // `args_sizes_get` of the arguments; `environ_sizes_get` of no variables.
    type Sizes = fn(&Io) -> (u32, u32);
    let sizes: [(&str, Sizes); 2] = [
        ("args_sizes_get", |io| {
            let total = io.args.iter().map(|s| s.len() as u32 + 1).sum();
            (io.args.len() as u32, total)
        }),
        ("environ_sizes_get", |_| (0, 0)),
    ];
    for (name, of) in sizes {
        linker.func_new(p1, name, ty(&[I32; 2], &[I32]), move |mut c, a, r| {
            let [Val::I32(count), Val::I32(size)] = a else {
                unreachable!()
            };
            let (mem, io) = memory(&mut c);
            let (n, total) = of(io);
            set_i32(mem, *count as u32, n);
            set_i32(mem, *size as u32, total);
            r[0] = Val::I32(0);
            Ok(())
        });
    }
    // Bytes of a fixed pattern: nothing here depends on their randomness.
    linker.func_new(p1, "random_get", ty(&[I32; 2], &[I32]), |mut c, a, r| {
        let [Val::I32(buf), Val::I32(len)] = a else {
            unreachable!()
        };
        let (mem, _) = memory(&mut c);
        let (at, len) = (*buf as u32 as usize, *len as u32 as usize);
        for (i, b) in mem[at..at + len].iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0x5a;
        }
        r[0] = Val::I32(0);
        Ok(())
    });
    linker.func_new(p1, "environ_get", ty(&[I32; 2], &[I32]), |_, _, r| {
        r[0] = Val::I32(0);
        Ok(())
    });
    linker.func_new(p1, "args_get", ty(&[I32; 2], &[I32]), |mut c, a, r| {
        let [Val::I32(argv), Val::I32(buf)] = a else {
            unreachable!()
        };
        let (mem, io) = memory(&mut c);
        let mut at = *buf as u32;
        for (i, s) in io.args.iter().enumerate() {
            set_i32(mem, *argv as u32 + 4 * i as u32, at);
            mem[at as usize..at as usize + s.len()].copy_from_slice(s);
            mem[at as usize + s.len()] = 0;
            at += s.len() as u32 + 1;
        }
        r[0] = Val::I32(0);
        Ok(())
    });
}

/// Runs a lowered module's `_start` with `args` (argv[0] included).
pub fn run(module: &[u8], args: &[&str]) -> Outcome {
    let engine = Engine::new(Config::default());
    let module = Module::new(&engine, module).expect("the lowered module loads in core-vm");
    let mut linker: Linker<Io> = Linker::new();
    p1_functions(&mut linker);
    let io = Io {
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        ..Io::default()
    };
    let mut store = Store::new(&engine, io);
    let exit = match linker.instantiate(&mut store, &module) {
        Err(e) => Exit::Trap(format!("instantiation: {e}")),
        Ok(instance) => {
            let start = instance
                .get_func(&store, "_start")
                .expect("a lowered command exports _start");
            match start.call(&mut store, &[], &mut []) {
                Ok(()) => Exit::Returned,
                Err(e) => match e.as_trap().and_then(|t| t.downcast_host::<ExitCode>()) {
                    Some(ExitCode(c)) => Exit::Code(*c),
                    None => Exit::Trap(e.to_string()),
                },
            }
        }
    };
    let io = store.into_data();
    Outcome {
        stdout: String::from_utf8_lossy(&io.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&io.stderr).into_owned(),
        exit,
    }
}

/// What [`call_reactor`] saw: each call's results, stdout, and the memory
/// at the end; if a call trapped, its name and the trap (the calls after
/// it are not made).
pub struct Calls {
    pub results: Vec<Vec<Val>>,
    pub stdout: String,
    pub memory: Vec<u8>,
    pub trapped: Option<(String, String)>,
}

/// Instantiates a lowered reactor, calls `_initialize`, then each of
/// `calls` in order, up to the first that traps.
pub fn call_reactor(module: &[u8], calls: &[(&str, Vec<Val>)]) -> Calls {
    let engine = Engine::new(Config::default());
    let module = Module::new(&engine, module).expect("the lowered module loads in core-vm");
    let mut linker: Linker<Io> = Linker::new();
    p1_functions(&mut linker);
    let mut store = Store::new(&engine, Io::default());
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiates");
    let init = instance
        .get_func(&store, "_initialize")
        .expect("a lowered reactor exports _initialize");
    init.call(&mut store, &[], &mut []).expect("_initialize");
    let mut results = Vec::new();
    let mut trapped = None;
    for (name, args) in calls {
        let f = instance
            .get_func(&store, name)
            .unwrap_or_else(|| panic!("no export {name}"));
        let n = f.ty(&store).results().len();
        let mut out = vec![Val::I32(0); n];
        if let Err(e) = f.call(&mut store, args, &mut out) {
            trapped = Some((name.to_string(), e.to_string()));
            break;
        }
        results.push(out);
    }
    let mem = instance.get_memory(&store, "memory").expect("memory");
    let memory = mem.data(&store).to_vec();
    let io = store.into_data();
    Calls {
        results,
        stdout: String::from_utf8_lossy(&io.stdout).into_owned(),
        memory,
        trapped,
    }
}

/// The merged module's imports and exports, as `module name` / `name`.
pub fn imports_exports(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            wasmparser::Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    let i = i.unwrap();
                    imports.push(format!("{} {}", i.module, i.name));
                }
            }
            wasmparser::Payload::ExportSection(r) => {
                for e in r {
                    exports.push(e.unwrap().name.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

/// Counts of the merged module's index spaces: (types, defined functions,
/// tables, memories, globals, element segments, data segments).
/// The stand-in library's functions (named `lib.*`) an output kept, sorted.
pub fn library_funcs(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CustomSection(c) = payload.unwrap() {
            if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                for sub in names.into_iter().flatten() {
                    if let wasmparser::Name::Function(map) = sub {
                        out.extend(
                            map.into_iter()
                                .flatten()
                                .filter(|n| n.name.starts_with("lib."))
                                .map(|n| n.name.to_string()),
                        );
                    }
                }
            }
        }
    }
    out.sort();
    out
}

pub fn counts(bytes: &[u8]) -> [u32; 7] {
    let mut c = [0; 7];
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            wasmparser::Payload::TypeSection(r) => c[0] = r.count(),
            wasmparser::Payload::FunctionSection(r) => c[1] = r.count(),
            wasmparser::Payload::TableSection(r) => c[2] = r.count(),
            wasmparser::Payload::MemorySection(r) => c[3] = r.count(),
            wasmparser::Payload::GlobalSection(r) => c[4] = r.count(),
            wasmparser::Payload::ElementSection(r) => c[5] = r.count(),
            wasmparser::Payload::DataSection(r) => c[6] = r.count(),
            _ => {}
        }
    }
    c
}

/// The libraries the tests build.
#[derive(Clone, Copy, Debug)]
pub enum Library {
    /// `tests/testlib`, its own Cargo project.
    Test,
    /// The workspace's p2-lib.
    P2Lib,
    /// p2-lib with its `invoke` feature (`p2shim lower --invoke`), in a
    /// target directory of its own.
    P2LibInvoke,
}

/// Builds `lib` for wasm32-wasip1 with extra link arguments, in a target
/// directory of its own, and returns its bytes.
pub fn build(lib: Library, link_args: &str) -> Vec<u8> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (dir, package, link_env, artifact) = match lib {
        Library::Test => (
            manifest.join("tests/testlib"),
            None,
            "TESTLIB_LINK_ARGS",
            "p2lib_testlib",
        ),
        Library::P2Lib | Library::P2LibInvoke => (
            manifest.join(".."),
            Some("p2-lib"),
            "P2LIB_LINK_ARGS",
            "p2_lib",
        ),
    };
    let dir_name = match lib {
        Library::P2LibInvoke => "invoke-p2_lib".to_string(),
        _ => format!("relocate-{artifact}"),
    };
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir_name);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--quiet",
        "--locked",
        "--target",
        "wasm32-wasip1",
    ]);
    if let Some(p) = package {
        cmd.args(["-p", p]);
    }
    if let Library::P2LibInvoke = lib {
        cmd.args(["--features", "invoke"]);
    }
    let out = cmd
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .env(link_env, link_args)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("running cargo");
    assert!(
        out.status.success(),
        "building {lib:?} for wasm32-wasip1 (link args `{link_args}`) failed \
         (is the target installed? scripts/install-tools.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(target.join(format!("wasm32-wasip1/release/{artifact}.wasm"))).unwrap()
}

/// The wasmtime CLI: `$WASMTIME`, else the workspace's
/// `target/tools/bin/wasmtime` (where `scripts/install-tools.sh` puts the
/// pinned one), else `wasmtime` on `PATH`.
pub fn wasmtime() -> PathBuf {
    if let Ok(w) = std::env::var("WASMTIME") {
        return w.into();
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/bin/wasmtime");
    if local.exists() {
        local
    } else {
        "wasmtime".into()
    }
}

/// Writes a component given as WAT, assembled, under
/// `CARGO_TARGET_TMPDIR/native/`, named by a hash of its bytes (the files
/// are kept: one a failing comparison names can be rerun by hand).
fn native_file(component_wat: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    use std::sync::atomic::{AtomicUsize, Ordering};
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let bytes = wat::parse_str(component_wat).expect("the test component assembles");
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let hash = hasher.finish();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("native");
    std::fs::create_dir_all(&dir).unwrap();
    // Written whole under a name of this write's own, then renamed: tests
    // running in parallel never see a part of a file.
    let partial = dir.join(format!(
        "{hash:016x}.{}.{}.part",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&partial, &bytes).unwrap();
    let file = dir.join(format!("{hash:016x}.wasm"));
    std::fs::rename(&partial, &file).unwrap();
    file
}

/// Runs the command component `file` on native wasmtime with `args`
/// (argv[0] included, passed as `--argv0`).
fn native_run(file: &Path, args: &[&str]) -> Outcome {
    let (argv0, rest) = args.split_first().expect("args include argv[0]");
    let out = Command::new(wasmtime())
        .arg("run")
        .arg("--argv0")
        .arg(argv0)
        .arg(file)
        .args(rest)
        // wasmtime's error report without the host's stack backtrace.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap_or_else(|e| no_wasmtime(e));
    outcome(out)
}

fn no_wasmtime(e: std::io::Error) -> ! {
    panic!(
        "cannot run wasmtime ({:?}: {e}): install it with scripts/install-tools.sh \
         (or name one in $WASMTIME)",
        wasmtime()
    )
}

/// How a native wasmtime run ended (see [`native`]).
fn outcome(out: std::process::Output) -> Outcome {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let exit = match out.status.code() {
        Some(0) => Exit::Returned,
        // What wasmtime exits with after a trap.
        Some(134) => Exit::Trap(stderr.clone()),
        Some(c) => Exit::Code(c),
        None => Exit::Trap(format!("{:?}: {stderr}", out.status)),
    };
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        exit,
    }
}

/// Runs `wasmtime run --invoke CALL FILE` for the component given as WAT
/// (exit statuses as in [`native`]).
pub fn native_invoke(component_wat: &str, call: &str) -> Outcome {
    let out = Command::new(wasmtime())
        .arg("run")
        .arg("--invoke")
        .arg(call)
        .arg(native_file(component_wat))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap_or_else(|e| no_wasmtime(e));
    outcome(out)
}

/// Asserts that `lowered` (a module of `lower --invoke` run on core-vm with
/// the call as argv[1]) printed what `wasmtime run --invoke CALL` prints for
/// the component, and ended alike: exit 0 ↔ `_start` returned, exit 1 ↔
/// exit 1 (each with an error on stderr), a trap ↔ a trap. (The reports'
/// words differ: wasmtime's are its own.)
pub fn assert_invoke_as_native(what: &str, component_wat: &str, call: &str, lowered: &Outcome) {
    let native = native_invoke(component_wat, call);
    let same = match (&lowered.exit, &native.exit) {
        (Exit::Returned | Exit::Code(0), Exit::Returned) => true,
        (Exit::Code(1), Exit::Code(1)) => !lowered.stderr.is_empty() && !native.stderr.is_empty(),
        (Exit::Trap(_), Exit::Trap(_)) => true,
        _ => false,
    };
    assert!(
        same && lowered.stdout == native.stdout && !lowered.stderr.contains("panicked"),
        "{what}: `{call}` lowered differs from `wasmtime run --invoke`\n{}",
        both(lowered, &native)
    );
}

/// A lowered and a native outcome, for a failure's message.
fn both(lowered: &Outcome, native: &Outcome) -> String {
    format!(
        "lowered: {:?}, stdout {:?}, stderr {:?}\n\
         native:  {:?}, stdout {:?}, stderr {:?}",
        lowered.exit, lowered.stdout, lowered.stderr, native.exit, native.stdout, native.stderr,
    )
}

/// Runs a command component (exporting `wasi:cli/run`) given as WAT on
/// native wasmtime: `wasmtime run --argv0 ARGS[0] FILE ARGS[1..]`, so its
/// arguments are [`run`]'s, argv[0] included. Exit 0 is
/// [`Exit::Returned`]; exit 134 (wasmtime's exit on a trap) or a signal is
/// [`Exit::Trap`] with wasmtime's stderr; any other status is
/// [`Exit::Code`]. Fails, naming `scripts/install-tools.sh`, if wasmtime
/// cannot be started.
pub fn native(component_wat: &str, args: &[&str]) -> Outcome {
    native_run(&native_file(component_wat), args)
}

/// The one place where a lowered run's ending (on core-vm with the
/// stand-in library) is matched with native wasmtime's for the same
/// component; `Ok` if they are the same kind:
///
/// * native exit 0 ↔ `_start` returned (or `proc_exit(0)`), both with the
///   same stderr;
/// * native exit 1 ↔ the lowered module's exit 1 (`run` returned `err`,
///   `exit(err)`, or an invalid `result` discriminant from `run`): both
///   with nothing on stderr, or the lowered module's message (its last
///   `: `-separated part: wasmtime's report lays out the same causes over
///   several lines and names the file) in wasmtime's report;
/// * native exit 1 with the message of a `canonical_abi::CanonError` in its
///   report ↔ the stand-in's report of that error: its `p2lib_canon_error`
///   exits 10 + the error's code (10 to 15), printing nothing;
/// * a native trap (exit 134, or a signal) ↔ a trap of the lowered module
///   (not the same trap: the lowered adapters trap with `unreachable`
///   where wasmtime names the check);
/// * any other exit code ↔ the same code.
///
/// A native exit 1 thus always needs a message that shows the component
/// ran (or an empty stderr, which wasmtime gives only for `run`'s `err`):
/// a component wasmtime failed to load or instantiate does not match.
fn same_ending(lowered: &Outcome, native: &Outcome) -> Result<(), String> {
    use canonical_abi::CanonError;
    match (&lowered.exit, &native.exit) {
        (Exit::Returned | Exit::Code(0), Exit::Returned) => {
            if lowered.stderr == native.stderr {
                Ok(())
            } else {
                Err("not the same stderr".into())
            }
        }
        (Exit::Code(1), Exit::Code(1)) => {
            let message = lowered.stderr.trim().rsplit(": ").next().unwrap_or("");
            match (message, native.stderr.is_empty()) {
                ("", true) => Ok(()),
                ("", false) => Err("wasmtime reports an error, the lowered run none".into()),
                (m, _) if native.stderr.contains(m) => Ok(()),
                (m, _) => Err(format!("\"{m}\" is not in wasmtime's report")),
            }
        }
        (Exit::Code(c @ 10..=15), Exit::Code(1)) => {
            let message = match CanonError::from_code(c - 10) {
                // The stand-in does not print the handle.
                Some(CanonError::UnknownHandle) => "unknown handle index".to_string(),
                Some(e) => e.message(0),
                None => return Err(format!("exit {c} is not a report of the stand-in")),
            };
            if native.stderr.contains(&message) {
                Ok(())
            } else {
                Err(format!(
                    "the stand-in's exit {c} reports \"{message}\", not in wasmtime's report"
                ))
            }
        }
        (Exit::Trap(_), Exit::Trap(_)) => Ok(()),
        (Exit::Code(a), Exit::Code(b)) if a == b && *a != 1 => Ok(()),
        _ => Err("not the same kind of ending".into()),
    }
}

/// Runs `component_wat` on native wasmtime with `args` (as given to
/// [`run`], argv[0] included) and asserts `lowered` (its lowered run on
/// core-vm) printed the same stdout and ended the same way (by
/// [`same_ending`]'s mapping). `what` names the case in a failure, which
/// also names the component's file, to rerun with `wasmtime run`.
pub fn assert_as_native(what: &str, component_wat: &str, args: &[&str], lowered: &Outcome) {
    let file = native_file(component_wat);
    let native = native_run(&file, args);
    let ending = same_ending(lowered, &native);
    assert!(
        lowered.stdout == native.stdout && ending.is_ok(),
        "{what}: the lowered run differs from native wasmtime's ({}){}\n{}",
        file.display(),
        ending.err().map(|e| format!(": {e}")).unwrap_or_default(),
        both(lowered, &native)
    );
}
