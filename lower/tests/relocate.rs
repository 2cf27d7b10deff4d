//! The relocator against real wasm-ld output: the test library
//! (`tests/testlib`, linked as p2-lib is) and p2-lib itself are built for
//! wasm32-wasip1 at several layouts, and
//! * relocating build A to the memory base (or table base) at which build B
//!   was linked must give B's module byte for byte;
//! * every relocation type wasm-ld emits for it must be handled;
//! * the relocated library must run inside a guest's memory on wasmtime
//!   (static data, vtables, a growing heap, p1 calls) without touching the
//!   guest's bytes;
//! * mutated libraries give an error or a valid module, never a panic;
//! * p2-lib, linked into a lowered component, traps on a WASI call (or a
//!   `resource.new`) made from inside the guest's `realloc` (the one guest
//!   code a WASI call runs), as its `call` module's doc promises and as
//!   native wasmtime does.
//!
//! Needs the wasm32-wasip1 Rust target and wasmtime (`scripts/install-tools.sh`).

mod common;
use common::{build, wasmtime, Library};
use lower::relocate::{relocate, Placement, Relocated, TablePlacement, PAGE_SIZE};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use wasmparser::{KnownCustom, Parser, Payload, RelocationType};

/// The test library linked at three layouts, and p2-lib at two.
struct Builds {
    /// As p2-lib is linked.
    a: Vec<u8>,
    /// Data, stack and heap two pages higher (`--global-base`).
    b: Vec<u8>,
    /// Table slots from 101 instead of 1 (`--table-base`).
    c: Vec<u8>,
    /// p2-lib as `make p2-lib` links it, and two pages higher.
    p2lib_a: Vec<u8>,
    p2lib_b: Vec<u8>,
}

const B_SHIFT: u32 = 2 * PAGE_SIZE;
const C_TABLE_BASE: u32 = 101;

fn builds() -> &'static Builds {
    static BUILDS: OnceLock<Builds> = OnceLock::new();
    let shifted = format!("--global-base={}", 1024 + B_SHIFT);
    BUILDS.get_or_init(|| Builds {
        a: build(Library::Test, ""),
        b: build(Library::Test, &shifted),
        c: build(Library::Test, &format!("--table-base={C_TABLE_BASE}")),
        p2lib_a: build(Library::P2Lib, ""),
        p2lib_b: build(Library::P2Lib, &shifted),
    })
}

fn place(lib: &[u8], memory_base: u32, table: TablePlacement) -> Relocated {
    let r = relocate(lib, &Placement { memory_base, table })
        .unwrap_or_else(|e| panic!("relocating at {memory_base:#x}: {e}"));
    wasmparser::Validator::new()
        .validate_all(&r.module)
        .unwrap_or_else(|e| panic!("relocated module does not validate: {e}"));
    r
}

/// Relocating `a` by [`B_SHIFT`] gives `b` (built there) byte for byte.
fn assert_moved_is_built_there(a: &[u8], b: &[u8]) {
    let own = TablePlacement::Own;
    let a_moved = place(a, B_SHIFT, own);
    let b_here = place(b, 0, own);
    // B's region starts at 0 with two unused pages: the same end.
    assert_eq!(B_SHIFT / PAGE_SIZE + a_moved.pages, b_here.pages);
    assert_eq!(a_moved.exports, b_here.exports);
    assert!(a_moved.exports.iter().any(|e| e == "p2lib_init"));
    assert!(
        a_moved.module == b_here.module,
        "relocated by {B_SHIFT:#x}, it differs from its build there"
    );
    // And the comparison can fail: A left in place is not B.
    assert!(place(a, 0, own).module != b_here.module);
}

#[test]
fn relocated_build_is_the_build_at_that_memory_base() {
    let b = builds();
    assert_moved_is_built_there(&b.a, &b.b);
}

#[test]
fn relocated_p2lib_is_the_build_at_that_memory_base() {
    let b = builds();
    assert_moved_is_built_there(&b.p2lib_a, &b.p2lib_b);
}

#[test]
fn relocated_build_is_the_build_at_that_table_base() {
    let b = builds();
    let shared = TablePlacement::Shared { base: C_TABLE_BASE };
    let a_moved = place(&b.a, 0, shared);
    let c_here = place(&b.c, 0, shared);
    assert!(a_moved.table_slots > 10, "{}", a_moved.table_slots);
    assert_eq!(a_moved.table_slots, c_here.table_slots);
    assert!(
        a_moved.module == c_here.module,
        "A moved to table slot {C_TABLE_BASE} differs from C"
    );
    assert!(place(&b.a, 0, TablePlacement::Own).module != c_here.module);
}

/// The table-index relocations, sorted by the function whose body takes a
/// slot (or by data), name exactly the functions of the table: wasm-ld puts
/// a function in the table only where its address is taken, so the walk of
/// `lower::reach` sees every way a slot is made.
#[test]
fn every_table_slot_taken_is_attributed() {
    let b = builds();
    for lib in [&b.a, &b.p2lib_a] {
        let r = place(lib, 0, TablePlacement::Own);
        let mut imported = 0;
        let mut defined = 0;
        let mut table = BTreeSet::new();
        for p in Parser::new(0).parse_all(&r.module) {
            match p.unwrap() {
                Payload::ImportSection(s) => {
                    for i in s.into_imports() {
                        if matches!(i.unwrap().ty, wasmparser::TypeRef::Func(_)) {
                            imported += 1;
                        }
                    }
                }
                Payload::FunctionSection(s) => defined = s.count(),
                Payload::ElementSection(s) => {
                    for e in s {
                        if let wasmparser::ElementItems::Functions(f) = e.unwrap().items {
                            table.extend(f.into_iter().map(Result::unwrap));
                        }
                    }
                }
                _ => {}
            }
        }
        let t = &r.address_taken;
        assert!(!t.in_data.is_empty(), "no vtable in data");
        assert!(!t.in_code.is_empty(), "no function pointer made in code");
        for &(f, _) in &t.in_code {
            assert!(
                (imported..imported + defined).contains(&f),
                "function {f} is not defined"
            );
        }
        let taken: BTreeSet<u32> = t
            .in_code
            .iter()
            .map(|&(_, g)| g)
            .chain(t.in_data.iter().copied())
            .collect();
        assert_eq!(taken, table);
    }
}

/// The relocation types in the `reloc.*` sections of `lib`.
fn relocation_types(lib: &[u8]) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    for p in Parser::new(0).parse_all(lib) {
        if let Payload::CustomSection(c) = p.unwrap() {
            if let KnownCustom::Reloc(r) = c.as_known() {
                for e in r.entries() {
                    types.insert(lower::relocate::reloc_name(e.unwrap().ty).to_string());
                }
            }
        }
    }
    types
}

#[test]
fn every_relocation_type_of_the_library_is_handled() {
    let b = builds();
    let types = relocation_types(&b.a);
    eprintln!("relocation types of the test library: {types:?}");
    // What a Rust cdylib with data pointers, vtables and indirect calls has.
    for want in [
        RelocationType::MemoryAddrSleb,
        RelocationType::MemoryAddrLeb,
        RelocationType::MemoryAddrI32,
        RelocationType::TableIndexI32,
        RelocationType::FunctionIndexLeb,
        RelocationType::TypeIndexLeb,
        RelocationType::GlobalIndexLeb,
    ] {
        let name = lower::relocate::reloc_name(want);
        assert!(types.contains(name), "{name} not in {types:?}");
    }
    // relocate() refuses any type it does not handle, so succeeding on
    // every layout covers them all.
    for lib in [&b.a, &b.b, &b.c, &b.p2lib_a] {
        place(lib, 7 * PAGE_SIZE, TablePlacement::Own);
        place(lib, 7 * PAGE_SIZE, TablePlacement::Shared { base: 3 });
    }
}

/// The line `tlib_run(10)` prints on its `call`th call.
fn expected_line(call: u32) -> String {
    let areas = [9u32, 10, 16];
    let sum: u32 = (0..10u32)
        .map(|i| {
            let a = areas[(i % 3) as usize];
            if i % 2 == 0 {
                a * 2
            } else {
                a * a
            }
        })
        .sum();
    format!("hello from the library: call {call}, sum {sum}, [(\"rect\", 3), (\"square\", 7)]")
}

#[test]
fn relocated_library_runs_inside_the_guest_memory() {
    run_inside_a_guest(TablePlacement::Own, "own");
}

#[test]
fn relocated_library_runs_with_the_guest_table() {
    run_inside_a_guest(TablePlacement::Shared { base: 4 }, "shared");
}

/// Runs the test library placed above a guest's 3 pages (and with its
/// table slots as `table` says), on wasmtime.
fn run_inside_a_guest(table: TablePlacement, name: &str) {
    let b = builds();
    let guest_pages = 3;
    let base = guest_pages * PAGE_SIZE;
    let lib = place(&b.a, base, table);
    let total = guest_pages + lib.pages;
    // The memory and the table the guest and the library share.
    let memory = format!(
        "(module (memory (export \"memory\") {total}) \
         (table (export \"__indirect_function_table\") {} funcref))",
        4 + lib.table_slots
    );
    // Fills the guest's pages with a pattern, runs the library, grows the
    // memory for itself, lets the library allocate past its region, and
    // checks that the guest's bytes and its table slot are intact; exit
    // status = failed checks.
    let guest = format!(
        r#"(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (export "memory" (memory 0))
  (import "lib" "p2lib_init" (func $init))
  (import "lib" "tlib_run" (func $run (param i32) (result i32)))
  (import "lib" "tlib_alloc" (func $alloc (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (type $r (func (result i32)))
  (elem (table 0) (i32.const 1) func $seven)
  (func $seven (result i32) (i32.const 7))
  (global $fails (mut i32) (i32.const 0))
  (func $fill (param $from i32) (param $to i32)
    (loop $l
      (i32.store8 (local.get $from) (i32.mul (local.get $from) (i32.const 7)))
      (local.set $from (i32.add (local.get $from) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $from) (local.get $to)))))
  (func $intact (param $from i32) (param $to i32) (result i32)
    (loop $l
      (if (i32.ne (i32.load8_u (local.get $from))
                  (i32.and (i32.mul (local.get $from) (i32.const 7)) (i32.const 255)))
        (then (return (i32.const 0))))
      (local.set $from (i32.add (local.get $from) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $from) (local.get $to))))
    (i32.const 1))
  (func $expect (param $ok i32) (param $bit i32)
    (if (i32.eqz (local.get $ok))
      (then (global.set $fails (i32.or (global.get $fails) (local.get $bit))))))
  (func (export "_start")
    (local $page i32) (local $p i32)
    (call $fill (i32.const 0) (i32.const {base}))
    (call $init)
    (drop (call $run (i32.const 10)))
    (local.set $page (memory.grow (i32.const 1)))
    (call $expect (i32.eq (local.get $page) (i32.const {total})) (i32.const 1))
    (call $fill (i32.mul (local.get $page) (i32.const 65536))
                (i32.mul (i32.add (local.get $page) (i32.const 1)) (i32.const 65536)))
    ;; 300 KB: more than the library's first region holds.
    (local.set $p (call $alloc (i32.const 300000)))
    (call $expect (i32.ge_u (local.get $p)
                            (i32.mul (i32.add (local.get $page) (i32.const 1)) (i32.const 65536)))
                  (i32.const 2))
    (call $expect (i32.eq (i32.load8_u (i32.add (local.get $p) (i32.const 299999))) (i32.const 0xab))
                  (i32.const 4))
    (drop (call $run (i32.const 10)))
    (call $expect (call $intact (i32.const 0) (i32.const {base})) (i32.const 8))
    (call $expect (call $intact (i32.mul (local.get $page) (i32.const 65536))
                                (i32.mul (i32.add (local.get $page) (i32.const 1)) (i32.const 65536)))
                  (i32.const 16))
    (call $expect (i32.eq (call_indirect (type $r) (i32.const 1)) (i32.const 7)) (i32.const 32))
    (call $exit (global.get $fails))))"#
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("relocate-run-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("memory.wasm"), wat::parse_str(&memory).unwrap()).unwrap();
    std::fs::write(dir.join("lib.wasm"), &lib.module).unwrap();
    std::fs::write(dir.join("guest.wasm"), wat::parse_str(&guest).unwrap()).unwrap();
    let out = Command::new(wasmtime())
        .current_dir(&dir)
        .args([
            "run",
            "--preload",
            "env=memory.wasm",
            "--preload",
            "lib=lib.wasm",
            "guest.wasm",
        ])
        .output()
        .unwrap_or_else(|e| panic!("running {:?} (scripts/install-tools.sh): {e}", wasmtime()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "failed checks (bits: 1 grow, 2 library heap placement, 4 library heap bytes, \
         8 guest data, 16 guest's grown page, 32 guest's table slot); stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        format!("{}\n{}\n", expected_line(1), expected_line(2))
    );
}

/// A small deterministic generator (xorshift) for the mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_libraries_give_an_error_or_a_valid_module() {
    let b = builds();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..300 {
        let mut lib = b.a.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(lib.len());
            lib[at] = rng.next() as u8;
        }
        let placement = Placement {
            memory_base: (rng.below(64) as u32) * PAGE_SIZE,
            table: TablePlacement::Own,
        };
        match relocate(&lib, &placement) {
            Ok(r) => {
                // A mutation inside code or data gives a module that may be
                // invalid only where the input already was.
                if wasmparser::Validator::new().validate_all(&lib).is_ok() {
                    wasmparser::Validator::new()
                        .validate_all(&r.module)
                        .expect("valid input, invalid output");
                }
                ok += 1;
            }
            Err(e) => {
                assert!(!e.to_string().contains('\n'), "{e}");
                refused += 1;
            }
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
}

/// What the guest's `cabi_realloc` calls in [`reentrant_component`].
#[derive(Clone, Copy, Debug)]
enum Reenter {
    Nothing,
    /// WASI `get-stdout` (the library's own check).
    Wasi,
    /// `resource.new` of a resource the component defines (the generated
    /// code's check of the library's phase).
    ResourceNew,
}

/// A component whose `run` calls `get-arguments` (which lowers its list
/// through the guest's `cabi_realloc`), whose `cabi_realloc` calls what
/// `reenter` says.
fn reentrant_component(reenter: Reenter) -> String {
    let call = match reenter {
        Reenter::Nothing => "",
        Reenter::Wasi => "(drop (call $gs))",
        Reenter::ResourceNew => "(drop (call $new (i32.const 7)))",
    };
    format!(
        r#"(component
  (import "wasi:io/error@0.2.0" (instance $error (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error-type))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error-type (type $e0))
    (export "error" (type $e (eq $e0)))
    (export "output-stream" (type $os (sub resource)))))
  (alias export $streams "output-stream" (type $os))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $os (type $os2))
    (export "output-stream" (type $os3 (eq $os2)))
    (export "get-stdout" (func (result (own $os3))))))
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-arguments" (func (result (list string))))))
  (type $res (resource (rep i32)))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $new (canon resource.new $res))
  (core instance $w (export "get-stdout" (func $get-stdout)) (export "new" (func $new)))
  (core module $libc
    (import "w" "get-stdout" (func $gs (result i32)))
    (import "w" "new" (func $new (param i32) (result i32)))
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      {call}
      (local.set $p (global.get $heap))
      (global.set $heap (i32.add (local.get $p) (i32.add (local.get 3) (i32.const 8))))
      (local.get $p)))
  (core instance $libc (instantiate $libc (with "w" (instance $w))))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "cabi_realloc" (core func $realloc))
  (core func $get-arguments (canon lower (func $env "get-arguments") (memory $mem) (realloc $realloc)))
  (core instance $wasi (export "get-arguments" (func $get-arguments)))
  (core module $main
    (import "wasi" "get-arguments" (func $ga (param i32)))
    (func (export "run") (result i32) (call $ga (i32.const 16)) (i32.const 0)))
  (core instance $main (instantiate $main (with "wasi" (instance $wasi))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))
)"#
    )
}

/// p2-lib's phase is the Canonical ABI's `may_leave` while the guest's
/// `realloc` runs for a WASI call: a WASI call from it, or a
/// `resource.new` (the generated code's check), traps as in wasmtime
/// ("cannot leave component instance", exit 134), compared with native
/// wasmtime on the same component; without such a call the run ends well.
#[test]
fn an_import_called_from_the_guests_realloc_traps() {
    let b = builds();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reentrant-realloc");
    std::fs::create_dir_all(&dir).unwrap();
    for reenter in [Reenter::Nothing, Reenter::Wasi, Reenter::ResourceNew] {
        let wat = reentrant_component(reenter);
        let component = wat::parse_str(&wat).expect("the test component assembles");
        let lowered = lower::lower(&component, &b.p2lib_a)
            .unwrap_or_else(|e| panic!("lowering ({reenter:?}): {e}"));
        let file = dir.join(format!("reenter-{reenter:?}.wasm"));
        std::fs::write(&file, &lowered.bytes).unwrap();
        let out = Command::new(wasmtime())
            .args(["run".as_ref(), file.as_os_str(), "a".as_ref(), "b".as_ref()])
            .output()
            .unwrap_or_else(|e| panic!("running {:?} (scripts/install-tools.sh): {e}", wasmtime()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let native = common::native(&wat, &["app", "a", "b"]);
        match reenter {
            Reenter::Nothing => {
                assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
                assert!(stderr.is_empty(), "stderr:\n{stderr}");
                assert_eq!(native.exit, common::Exit::Returned, "{}", native.stderr);
            }
            Reenter::Wasi | Reenter::ResourceNew => {
                assert_eq!(
                    out.status.code(),
                    Some(134),
                    "{reenter:?}: stderr:\n{stderr}"
                );
                assert!(
                    stderr.contains("wasm trap: cannot leave component instance"),
                    "{reenter:?}: stderr:\n{stderr}"
                );
                assert!(
                    matches!(native.exit, common::Exit::Trap(_))
                        && native
                            .stderr
                            .contains("wasm trap: cannot leave component instance"),
                    "{reenter:?}: native wasmtime: {:?}, {}",
                    native.exit,
                    native.stderr
                );
            }
        }
    }
}
