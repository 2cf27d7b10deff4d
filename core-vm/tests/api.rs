//! Embedding-API tests of core-vm: host functions and the caller's memory,
//! re-entrant calls, typed traps with named backtraces, stack exhaustion,
//! memory growth limits, sharing entities between instances, linker and
//! validation errors, and call type checking.
//!
//! Invariants: every test builds its own engine and store from WAT text; no
//! test depends on another's state or order. The one test that could take
//! the whole process down (host re-entry recursion) runs in a child process.

use core_vm::{
    Caller, Config, Engine, Error, Extern, ExternRef, Func, FuncType, Global, GlobalType, Instance,
    Linker, Memory, MemoryType, Module, Store, Table, TableType, Trap, TrapCode, Val, ValType,
};

fn module(engine: &Engine, wat: &str) -> Module {
    let bytes = wat::parse_str(wat).expect("test WAT parses");
    Module::new(engine, &bytes).expect("test module validates")
}

fn instantiate<T>(store: &mut Store<T>, linker: &Linker<T>, wat: &str) -> Instance {
    let m = module(store.engine(), wat);
    linker
        .instantiate(store, &m)
        .expect("instantiation succeeds")
}

fn call1<T>(store: &mut Store<T>, inst: Instance, name: &str, args: &[Val]) -> Result<Val, Error> {
    let f = inst
        .get_func(store, name)
        .unwrap_or_else(|| panic!("export {name}"));
    let mut out = [Val::I32(0)];
    f.call(store, args, &mut out)?;
    Ok(out[0])
}

fn trap_of(r: Result<impl std::fmt::Debug, Error>) -> Trap {
    match r {
        Err(Error::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn host_function_reads_and_writes_caller_memory() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Vec::<String>::new());
    let mut linker = Linker::new();
    linker.func_new(
        "env",
        "log",
        FuncType::new([ValType::I32, ValType::I32], []),
        |mut caller: Caller<'_, Vec<String>>, args, _| {
            let (ptr, len) = (
                args[0].i32().unwrap() as usize,
                args[1].i32().unwrap() as usize,
            );
            let mem = caller.default_memory().expect("caller has a memory");
            let (bytes, log) = caller.memory_and_data(mem);
            log.push(String::from_utf8(bytes[ptr..ptr + len].to_vec()).unwrap());
            Ok(())
        },
    );
    linker.func_new(
        "env",
        "fill",
        FuncType::new([ValType::I32], []),
        |mut caller: Caller<'_, Vec<String>>, args, _| {
            let ptr = args[0].i32().unwrap() as usize;
            let mem = match caller.get_export("memory") {
                Some(Extern::Memory(m)) => m,
                other => panic!("memory export: {other:?}"),
            };
            mem.data_mut(caller.store_mut())[ptr..ptr + 4]
                .copy_from_slice(&0x1234_5678u32.to_le_bytes());
            Ok(())
        },
    );
    let inst = instantiate(
        &mut store,
        &linker,
        r#"(module
            (import "env" "log" (func $log (param i32 i32)))
            (import "env" "fill" (func $fill (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello, host")
            (func (export "run") (result i32)
              (call $log (i32.const 16) (i32.const 11))
              (call $fill (i32.const 100))
              (i32.load (i32.const 100))))"#,
    );
    assert_eq!(
        call1(&mut store, inst, "run", &[]).unwrap(),
        Val::I32(0x1234_5678)
    );
    assert_eq!(store.data(), &vec!["hello, host".to_string()]);
}

#[test]
fn host_function_reenters_wasm() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new(
        "env",
        "callback",
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller: Caller<'_, ()>, args, results| {
            let double = caller
                .get_export("double")
                .and_then(Extern::into_func)
                .expect("double export");
            let mut out = [Val::I32(0)];
            double
                .call(caller.store_mut(), &[args[0]], &mut out)
                .map_err(Trap::host)?;
            results[0] = Val::I32(out[0].i32().unwrap() + 1);
            Ok(())
        },
    );
    let inst = instantiate(
        &mut store,
        &linker,
        r#"(module
            (import "env" "callback" (func $cb (param i32) (result i32)))
            (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
            (func (export "run") (param i32) (result i32)
              (i32.add (call $cb (local.get 0)) (i32.const 1000))))"#,
    );
    assert_eq!(
        call1(&mut store, inst, "run", &[Val::I32(5)]).unwrap(),
        Val::I32(1011)
    );
    // The store stays usable after the nested call.
    assert_eq!(
        call1(&mut store, inst, "double", &[Val::I32(21)]).unwrap(),
        Val::I32(42)
    );
}

#[derive(Debug)]
struct HostFailure(&'static str);
impl std::fmt::Display for HostFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host failure: {}", self.0)
    }
}
impl std::error::Error for HostFailure {}

#[test]
fn host_errors_come_back_as_host_traps() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new("env", "fail", FuncType::new([], []), |_, _, _| {
        Err(Trap::host(HostFailure("boom")))
    });
    let inst = instantiate(
        &mut store,
        &linker,
        r#"(module (import "env" "fail" (func $fail))
             (func (export "run") (result i32) (call $fail) (i32.const 1)))"#,
    );
    let trap = trap_of(call1(&mut store, inst, "run", &[]));
    assert_eq!(trap.code(), TrapCode::Host);
    assert_eq!(
        trap.downcast_host::<HostFailure>().map(|e| e.0),
        Some("boom")
    );
}

/// A trap in Wasm called by a host function (a Canonical ABI `realloc`)
/// keeps its own frames and gets the frames of the Wasm that called the host
/// function below them (host functions have no frame), as wasmtime shows
/// the whole stack.
#[test]
fn trap_through_a_host_call_keeps_the_outer_frames() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new(
        "env",
        "callback",
        FuncType::new([], []),
        |mut caller: Caller<'_, ()>, _, _| {
            let f = caller
                .get_export("realloc")
                .and_then(Extern::into_func)
                .expect("realloc");
            match f.call(caller.store_mut(), &[], &mut []) {
                Err(Error::Trap(t)) => Err(t),
                other => panic!("expected a trap, got {other:?}"),
            }
        },
    );
    let inst = instantiate(
        &mut store,
        &linker,
        r#"(module $m
            (import "env" "callback" (func $cb))
            (func $realloc (export "realloc") unreachable)
            (func $caller (call $cb))
            (func $run (export "run") (call $caller)))"#,
    );
    let f = inst.get_func(&store, "run").unwrap();
    let trap = trap_of(f.call(&mut store, &[], &mut []));
    assert_eq!(trap.code(), TrapCode::Unreachable);
    let names: Vec<_> = trap
        .backtrace()
        .iter()
        .map(|fr| fr.func_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["realloc", "caller", "run"],
        "backtrace: {:?}",
        trap.backtrace()
    );
}

#[test]
fn traps_carry_code_and_named_backtrace() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new();
    let inst = instantiate(
        &mut store,
        &linker,
        r#"(module $m
            (memory 1)
            (func $inner (unreachable))
            (func $middle (call $inner))
            (func (export "unreachable") (call $middle))
            (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0))))"#,
    );
    let f = inst.get_func(&store, "unreachable").unwrap();
    let trap = trap_of(f.call(&mut store, &[], &mut []));
    assert_eq!(trap.code(), TrapCode::Unreachable);
    let names: Vec<_> = trap
        .backtrace()
        .iter()
        .map(|fr| fr.func_name.clone())
        .collect();
    assert_eq!(
        names.first(),
        Some(&Some("inner".to_string())),
        "backtrace: {:?}",
        trap.backtrace()
    );
    assert_eq!(
        names.get(1),
        Some(&Some("middle".to_string())),
        "backtrace: {:?}",
        trap.backtrace()
    );
    assert_eq!(trap.backtrace()[0].module_name.as_deref(), Some("m"));
    assert_eq!(trap.function().as_deref(), Some("m!inner"));
    assert!(trap.to_string().contains("unreachable"), "{trap}");
    assert!(trap.to_string().contains("m!middle"), "{trap}");

    let t = trap_of(call1(&mut store, inst, "div", &[Val::I32(0)]));
    assert_eq!(t.code(), TrapCode::IntegerDivisionByZero);
    assert_eq!(
        call1(&mut store, inst, "div", &[Val::I32(1)]).unwrap(),
        Val::I32(1)
    );
    let t = trap_of(call1(&mut store, inst, "load", &[Val::I32(65534)]));
    assert_eq!(t.code(), TrapCode::MemoryOutOfBounds);
    let t = trap_of(call1(
        &mut store,
        inst,
        "trunc",
        &[Val::F32(f32::NAN.to_bits())],
    ));
    assert_eq!(t.code(), TrapCode::BadConversionToInteger);
}

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module
            (func $f (export "f") (call $f))
            (func $g (export "g") (param i64 i64 i64) (result i64)
              (local f64 f64 f64 f64 f64 f64 f64 f64)
              (i64.add (call $g (local.get 0) (local.get 1) (local.get 2)) (i64.const 1)))
            (func $even (export "even") (param i32) (result i32) (call $odd (local.get 0)))
            (func $odd (param i32) (result i32) (call $even (local.get 0))))"#,
    );
    let f = inst.get_func(&store, "f").unwrap();
    assert_eq!(
        trap_of(f.call(&mut store, &[], &mut [])).code(),
        TrapCode::StackOverflow
    );
    let t = trap_of(call1(
        &mut store,
        inst,
        "g",
        &[Val::I64(1), Val::I64(2), Val::I64(3)],
    ));
    assert_eq!(t.code(), TrapCode::StackOverflow);
    let t = trap_of(call1(&mut store, inst, "even", &[Val::I32(1)]));
    assert_eq!(t.code(), TrapCode::StackOverflow);
    assert!(t.to_string().contains("call stack exhausted"), "{t}");
    // Still usable afterwards.
    assert_eq!(
        trap_of(f.call(&mut store, &[], &mut [])).code(),
        TrapCode::StackOverflow
    );
}

/// Host -> Wasm -> host -> ... without end: must be a trap, not a native
/// stack overflow. Run in a child process so a crash cannot take the test
/// binary down with it.
#[test]
#[cfg_attr(target_family = "wasm", ignore = "needs processes and threads")]
fn host_reentry_recursion_is_bounded() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "child_host_reentry_recursion",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env("P2SHIM_API_CHILD", "1")
        .output()
        .expect("spawning the test binary");
    assert!(
        out.status.success(),
        "child failed ({:?}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "child did not run the test"
    );
}

#[test]
#[ignore = "run by host_reentry_recursion_is_bounded in a child process"]
fn child_host_reentry_recursion() {
    if std::env::var_os("P2SHIM_API_CHILD").is_none() {
        return;
    }
    // Run on a thread with a modest native stack: the VM must stop first.
    let err = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            let engine = Engine::new(Config { max_call_depth: 10_000, ..Config::default() });
            let mut store = Store::new(&engine, ());
            let mut linker = Linker::new();
            linker.func_new("env", "again", FuncType::new([], []), |mut caller: Caller<'_, ()>, _, _| {
                let f = caller.get_export("run").and_then(Extern::into_func).unwrap();
                f.call(caller.store_mut(), &[], &mut []).map_err(|e| match e {
                    Error::Trap(t) => t,
                    other => Trap::host(std::io::Error::other(other.to_string())),
                })
            });
            let inst = instantiate(
                &mut store,
                &linker,
                r#"(module (import "env" "again" (func $again)) (func (export "run") (call $again)))"#,
            );
            let f = inst.get_func(&store, "run").unwrap();
            f.call(&mut store, &[], &mut []).map_err(|e| e.to_string())
        })
        .unwrap()
        .join()
        .unwrap()
        .expect_err("unbounded re-entry must fail");
    assert!(err.contains("call stack exhausted"), "{err}");
}

#[test]
fn memory_grow_respects_declared_max() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module (memory (export "m") 1 3)
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
             (func (export "size") (result i32) (memory.size)))"#,
    );
    let grow = |store: &mut Store<()>, n| call1(store, inst, "grow", &[Val::I32(n)]).unwrap();
    assert_eq!(grow(&mut store, 1), Val::I32(1));
    assert_eq!(grow(&mut store, 1), Val::I32(2));
    assert_eq!(grow(&mut store, 1), Val::I32(-1));
    assert_eq!(grow(&mut store, -1), Val::I32(-1));
    assert_eq!(call1(&mut store, inst, "size", &[]).unwrap(), Val::I32(3));
    let m = inst.get_memory(&store, "m").unwrap();
    assert_eq!(m.data(&store).len(), 3 * 65536);
    assert!(matches!(m.grow(&mut store, 1), Err(Error::Limit(_))));
    assert_eq!(m.size(&store), 3);
}

#[test]
fn memory_grow_respects_config_cap() {
    let engine = Engine::new(Config {
        max_memory_pages: 4,
        ..Config::default()
    });
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module (memory (export "m") 2)
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    );
    assert_eq!(
        call1(&mut store, inst, "grow", &[Val::I32(3)]).unwrap(),
        Val::I32(-1)
    );
    assert_eq!(
        call1(&mut store, inst, "grow", &[Val::I32(2)]).unwrap(),
        Val::I32(2)
    );
    assert_eq!(
        call1(&mut store, inst, "grow", &[Val::I32(1)]).unwrap(),
        Val::I32(-1)
    );
    let m = inst.get_memory(&store, "m").unwrap();
    assert_eq!(m.size(&store), 4);
    assert!(m.grow(&mut store, 1).is_err());
    // A module whose minimum exceeds the cap cannot be instantiated.
    let big = module(&engine, r#"(module (memory 5))"#);
    assert!(matches!(
        Linker::new().instantiate(&mut store, &big),
        Err(Error::Limit(_))
    ));
    assert!(matches!(
        Memory::new(
            &mut store,
            MemoryType {
                min: 5,
                max: None,
                memory64: false,
                shared: false
            }
        ),
        Err(Error::Limit(_))
    ));
}

/// The error text of a failed instantiation.
fn instantiation_error(store: &mut Store<()>, wat: &str) -> String {
    let m = module(store.engine(), wat);
    match Linker::new().instantiate(store, &m) {
        Err(e @ Error::Limit(_)) => e.to_string(),
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn instance_memory_and_table_counts_are_limited_in_wasmtimes_words() {
    let engine = Engine::new(Config {
        max_instances: 2,
        max_memories: 2,
        max_tables: 3,
        ..Config::default()
    });
    let mut store = Store::new(&engine, ());
    instantiate(
        &mut store,
        &Linker::new(),
        "(module (memory 1) (table 1 funcref))",
    );
    assert_eq!(
        instantiation_error(&mut store, "(module (memory 1) (memory 1))"),
        "resource limit exceeded: memory count too high at 3"
    );
    assert_eq!(
        instantiation_error(
            &mut store,
            "(module (table 1 funcref) (table 1 funcref) (table 1 funcref))"
        ),
        "resource limit exceeded: table count too high at 4"
    );
    instantiate(&mut store, &Linker::new(), "(module (memory 1))");
    assert_eq!(
        instantiation_error(&mut store, "(module)"),
        "resource limit exceeded: instance count too high at 3"
    );
    // Host-made memories and tables count too.
    let ty = MemoryType {
        min: 0,
        max: None,
        memory64: false,
        shared: false,
    };
    assert_eq!(
        Memory::new(&mut store, ty).unwrap_err().to_string(),
        "resource limit exceeded: memory count too high at 3"
    );
}

#[test]
fn sizes_past_the_limits_are_refused_in_wasmtimes_words() {
    let engine = Engine::new(Config {
        max_memory_pages: 1,
        max_table_elements: 5,
        ..Config::default()
    });
    let mut store = Store::new(&engine, ());
    assert_eq!(
        instantiation_error(&mut store, "(module (memory 2))"),
        "memory minimum size of 2 pages exceeds memory limits"
    );
    assert_eq!(
        instantiation_error(&mut store, "(module (table 10 funcref))"),
        "table minimum size of 10 elements exceeds table limits"
    );
    // Growth past them fails as -1, not a trap.
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module (table 1 funcref)
             (func (export "grow") (param i32) (result i32)
               (table.grow (ref.null func) (local.get 0))))"#,
    );
    assert_eq!(
        call1(&mut store, inst, "grow", &[Val::I32(5)]).unwrap(),
        Val::I32(-1)
    );
    assert_eq!(
        call1(&mut store, inst, "grow", &[Val::I32(4)]).unwrap(),
        Val::I32(1)
    );
}

#[test]
fn memory_table_global_shared_between_instances() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    let a = instantiate(
        &mut store,
        &linker,
        r#"(module
            (memory (export "mem") 1)
            (table (export "tab") 2 funcref)
            (global (export "g") (mut i32) (i32.const 7))
            (type $t (func (result i32)))
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "get_g") (result i32) (global.get 0))
            (func (export "call_slot") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))"#,
    );
    linker.instance(&store, "a", a);
    let b = instantiate(
        &mut store,
        &linker,
        r#"(module
            (import "a" "mem" (memory 1))
            (import "a" "tab" (table 2 funcref))
            (import "a" "g" (global $g (mut i32)))
            (func $forty_two (result i32) (i32.const 42))
            (elem (i32.const 1) $forty_two)
            (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
            (func (export "set_g") (param i32) (global.set $g (local.get 0))))"#,
    );
    let poke = b.get_func(&store, "poke").unwrap();
    poke.call(&mut store, &[Val::I32(8), Val::I32(-99)], &mut [])
        .unwrap();
    assert_eq!(
        call1(&mut store, a, "load", &[Val::I32(8)]).unwrap(),
        Val::I32(-99)
    );
    let set_g = b.get_func(&store, "set_g").unwrap();
    set_g.call(&mut store, &[Val::I32(123)], &mut []).unwrap();
    assert_eq!(call1(&mut store, a, "get_g", &[]).unwrap(), Val::I32(123));
    // B's element segment wrote into A's table; A calls B's function through it.
    assert_eq!(
        call1(&mut store, a, "call_slot", &[Val::I32(1)]).unwrap(),
        Val::I32(42)
    );
    assert_eq!(
        trap_of(call1(&mut store, a, "call_slot", &[Val::I32(0)])).code(),
        TrapCode::UninitializedElement
    );
    // The host sees the same entities.
    let g = a.get_global(&store, "g").unwrap();
    assert_eq!(g.get(&store), Val::I32(123));
    let mem = a.get_memory(&store, "mem").unwrap();
    assert_eq!(&mem.data(&store)[8..12], &(-99i32).to_le_bytes());
    assert!(matches!(
        a.get_table(&store, "tab").unwrap().get(&store, 1),
        Some(Val::FuncRef(Some(_)))
    ));
}

#[test]
fn host_created_entities_can_be_imported() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mem = Memory::new(
        &mut store,
        MemoryType {
            min: 1,
            max: Some(2),
            memory64: false,
            shared: false,
        },
    )
    .unwrap();
    let glob = Global::new(
        &mut store,
        GlobalType {
            content: ValType::I64,
            mutable: true,
        },
        Val::I64(5),
    )
    .unwrap();
    let tab = Table::new(
        &mut store,
        TableType {
            element: ValType::ExternRef,
            min: 1,
            max: None,
        },
        Val::ExternRef(None),
    )
    .unwrap();
    tab.set(&mut store, 0, Val::ExternRef(Some(ExternRef(77))))
        .unwrap();
    let mut linker = Linker::new();
    linker.define("h", "mem", Extern::Memory(mem));
    linker.define("h", "g", Extern::Global(glob));
    linker.define("h", "t", Extern::Table(tab));
    let inst = instantiate(
        &mut store,
        &linker,
        r#"(module
            (import "h" "mem" (memory 1 2))
            (import "h" "g" (global $g (mut i64)))
            (import "h" "t" (table 1 externref))
            (func (export "bump") (result i64)
              (global.set $g (i64.add (global.get $g) (i64.const 1)))
              (i64.store (i32.const 0) (global.get $g))
              (global.get $g))
            (func (export "ext") (result externref) (table.get 0 (i32.const 0))))"#,
    );
    assert_eq!(call1(&mut store, inst, "bump", &[]).unwrap(), Val::I64(6));
    assert_eq!(glob.get(&store), Val::I64(6));
    assert_eq!(&mem.data(&store)[..8], &6i64.to_le_bytes());
    assert_eq!(
        call1(&mut store, inst, "ext", &[]).unwrap(),
        Val::ExternRef(Some(ExternRef(77)))
    );
}

#[test]
fn linker_lists_every_missing_import() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new("env", "present", FuncType::new([], []), |_, _, _| Ok(()));
    let m = module(
        &engine,
        r#"(module
            (import "env" "present" (func))
            (import "env" "missing_fn" (func (param i32)))
            (import "env" "missing_mem" (memory 1))
            (import "other" "missing_global" (global i32))
            (import "other" "missing_table" (table 1 funcref)))"#,
    );
    let err = linker
        .instantiate(&mut store, &m)
        .expect_err("imports are missing");
    let Error::Link(msg) = &err else {
        panic!("expected a link error, got {err:?}")
    };
    for name in [
        "env::missing_fn",
        "env::missing_mem",
        "other::missing_global",
        "other::missing_table",
    ] {
        assert!(msg.contains(name), "`{name}` not in: {msg}");
    }
    assert!(!msg.contains("env::present"), "{msg}");
    assert!(err.to_string().contains("unknown import"), "{err}");

    // Present but of the wrong type.
    let m = module(
        &engine,
        r#"(module (import "env" "present" (func (result i32))))"#,
    );
    let err = linker.instantiate(&mut store, &m).expect_err("wrong type");
    assert!(matches!(err, Error::Link(_)), "{err:?}");
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
}

#[test]
fn malformed_and_invalid_bytes_are_validation_errors_with_offsets() {
    let engine = Engine::default();
    // Not a module at all.
    assert!(matches!(
        Module::new(&engine, b"hello"),
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        Module::new(&engine, b""),
        Err(Error::Validation { .. })
    ));
    // A type section whose entry has a bad form byte (0x61 at offset 11).
    let bad_form = b"\0asm\x01\0\0\0\x01\x04\x01\x61\x00\x00";
    match Module::new(&engine, bad_form) {
        Err(Error::Validation { offset, message }) => {
            assert_eq!(offset, 11, "{message}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // A section running past the end of the input.
    let truncated = b"\0asm\x01\0\0\0\x01\x10\x01\x60";
    match Module::new(&engine, truncated) {
        Err(Error::Validation { offset, .. }) => {
            assert!((8..=truncated.len()).contains(&offset), "{offset}")
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // Well-formed but ill-typed: the offset points into the code section.
    let bytes = wat::parse_str(r#"(module (func (result i32) (i64.const 1)))"#).unwrap();
    match Module::new(&engine, &bytes) {
        Err(e @ Error::Validation { offset, .. }) => {
            assert!(
                offset > 8 && offset < bytes.len(),
                "{offset} of {}",
                bytes.len()
            );
            assert!(e.to_string().contains("type mismatch"), "{e}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // SIMD is outside core-vm's feature set.
    let simd = wat::parse_str(r#"(module (func (result v128) (v128.const i64x2 0 0)))"#).unwrap();
    assert!(Module::new(&engine, &simd).is_err());
}

/// A module whose second function is ill-typed; the first one, its data
/// segments and its element segment are fine.
const ONE_BAD_BODY: &str = r#"(module
    (memory (export "mem") 1)
    (table 2 funcref)
    (elem (i32.const 0) $good $bad)
    (data (i32.const 16) "active")
    (data $p "passive")
    (func $good (export "good") (result i32)
        (memory.init $p (i32.const 32) (i32.const 0) (i32.const 7))
        (i32.load8_u (i32.const 33)))
    (func $bad (export "bad") (result i32) (i64.const 1))
    (func (export "via-table") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))"#;

#[test]
fn lazy_validation_rejects_an_invalid_body_when_it_is_first_called() {
    let bytes = wat::parse_str(ONE_BAD_BODY).unwrap();
    // Eagerly: the whole module is rejected, pointing into the bad body.
    let eager = Module::new(&Engine::default(), &bytes);
    let eager_offset = match eager {
        Err(Error::Validation { offset, message }) => {
            assert!(message.contains("type mismatch"), "{message}");
            offset
        }
        other => panic!("expected a validation error, got {other:?}"),
    };
    // Lazily: loading, instantiating (segments included) and calling the
    // valid function work; the invalid one fails with the same error, on
    // every call, directly or through the table.
    let engine = Engine::new(Config {
        lazy_validation: true,
        ..Config::default()
    });
    let m = Module::new(&engine, &bytes).expect("lazy load skips bodies");
    let mut store = Store::new(&engine, ());
    let inst = Linker::new()
        .instantiate(&mut store, &m)
        .expect("instantiation runs no body");
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(&mem.data(&store)[16..22], b"active");
    assert_eq!(
        call1(&mut store, inst, "good", &[]).unwrap(),
        Val::I32(b'a' as i32)
    );
    assert_eq!(&mem.data(&store)[32..39], b"passive");
    for _ in 0..2 {
        match call1(&mut store, inst, "bad", &[]) {
            Err(Error::Validation { offset, message }) => {
                assert_eq!(offset, eager_offset, "{message}");
                assert!(message.contains("type mismatch"), "{message}");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
    assert!(matches!(
        call1(&mut store, inst, "via-table", &[Val::I32(1)]),
        Err(Error::Validation { .. })
    ));
    assert_eq!(
        call1(&mut store, inst, "via-table", &[Val::I32(0)]).unwrap(),
        Val::I32(b'a' as i32)
    );
}

#[test]
fn a_module_shares_its_bytes_and_may_sit_inside_a_larger_buffer() {
    // The module at offset 5 of a buffer (as in a component); its data
    // segments and bodies are read from there, and error offsets are
    // relative to the module's start.
    let bytes = wat::parse_str(ONE_BAD_BODY).unwrap();
    let mut buffer = b"xxxxx".to_vec();
    buffer.extend_from_slice(&bytes);
    buffer.extend_from_slice(b"trailing");
    let range = 5..5 + bytes.len();
    let eager = Module::from_shared(
        &Engine::default(),
        std::sync::Arc::new(buffer.clone()),
        range.clone(),
    );
    let expected = Module::new(&Engine::default(), &bytes)
        .unwrap_err()
        .to_string();
    assert_eq!(eager.unwrap_err().to_string(), expected);
    let engine = Engine::new(Config {
        lazy_validation: true,
        ..Config::default()
    });
    let m = Module::from_shared(&engine, std::sync::Arc::new(buffer), range).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &m).unwrap();
    assert_eq!(
        call1(&mut store, inst, "good", &[]).unwrap(),
        Val::I32(b'a' as i32)
    );
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(&mem.data(&store)[16..22], b"active");
    assert_eq!(
        call1(&mut store, inst, "bad", &[]).unwrap_err().to_string(),
        expected
    );
}

#[test]
fn type_mismatched_calls_are_type_errors() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module (func (export "add") (param i32 i64) (result i64)
             (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))))"#,
    );
    let f = inst.get_func(&store, "add").unwrap();
    let mut out = [Val::I64(0)];
    assert!(matches!(
        f.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut out),
        Err(Error::Type(_))
    ));
    assert!(matches!(
        f.call(&mut store, &[Val::I32(1)], &mut out),
        Err(Error::Type(_))
    ));
    assert!(matches!(
        f.call(&mut store, &[Val::I32(1), Val::I64(2)], &mut []),
        Err(Error::Type(_))
    ));
    assert!(matches!(
        f.call(
            &mut store,
            &[Val::I32(1), Val::I64(2)],
            &mut [Val::I64(0), Val::I64(0)]
        ),
        Err(Error::Type(_))
    ));
    // Result slots start as anything: the call overwrites them with the right type.
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(-1), Val::I64(2)], &mut out)
        .unwrap();
    assert_eq!(out[0], Val::I64(1));
}

#[test]
fn floats_keep_nan_payloads_across_calls() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module
            (func (export "id32") (param f32) (result f32) (local.get 0))
            (func (export "id64") (param f64) (result f64) (local.get 0)))"#,
    );
    let payload32 = 0x7fa0_0001;
    let payload64 = 0xfff4_0000_0000_0001;
    assert_eq!(
        call1(&mut store, inst, "id32", &[Val::F32(payload32)]).unwrap(),
        Val::F32(payload32)
    );
    assert_eq!(
        call1(&mut store, inst, "id64", &[Val::F64(payload64)]).unwrap(),
        Val::F64(payload64)
    );
}

#[test]
fn fuel_stops_infinite_loops() {
    let engine = Engine::new(Config {
        fuel_metering: true,
        ..Config::default()
    });
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module (func (export "spin") (loop $l (br $l)))
                    (func $r (export "recurse") (call $r)))"#,
    );
    let spin = inst.get_func(&store, "spin").unwrap();
    store.set_fuel(10_000);
    assert_eq!(
        trap_of(spin.call(&mut store, &[], &mut [])).code(),
        TrapCode::OutOfFuel
    );
    assert_eq!(store.fuel(), 0);
    store.set_fuel(1_000);
    let recurse = inst.get_func(&store, "recurse").unwrap();
    assert_eq!(
        trap_of(recurse.call(&mut store, &[], &mut [])).code(),
        TrapCode::OutOfFuel
    );
}

#[test]
fn start_function_traps_fail_instantiation() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let m = module(&engine, r#"(module (func $s unreachable) (start $s))"#);
    let err = Linker::new()
        .instantiate(&mut store, &m)
        .expect_err("start traps");
    assert_eq!(err.as_trap().map(Trap::code), Some(TrapCode::Unreachable));
}

#[test]
fn funcref_results_can_be_called() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &mut store,
        &Linker::new(),
        r#"(module
            (func $seven (result i32) (i32.const 7))
            (elem declare func $seven)
            (func (export "get") (result funcref) (ref.func $seven)))"#,
    );
    let Val::FuncRef(Some(f)) = call1(&mut store, inst, "get", &[]).unwrap() else {
        panic!("expected a funcref")
    };
    assert_eq!(f.ty(&store), FuncType::new([], [ValType::I32]));
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::I32(7));
    // A host function handle is a Func like any other.
    let host: Func = Func::new(&mut store, FuncType::new([], [ValType::I32]), |_, _, r| {
        r[0] = Val::I32(9);
        Ok(())
    });
    host.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::I32(9));
}

#[test]
fn export_types_of_reexported_imports() {
    use core_vm::{ExternType, MemoryType, TableType};
    let bytes = wat::parse_str(
        r#"(module
            (import "env" "m" (memory 1 2))
            (import "env" "t" (table 3 funcref))
            (memory 4)
            (table 5 externref)
            (export "im" (memory 0)) (export "it" (table 0))
            (export "dm" (memory 1)) (export "dt" (table 1)))"#,
    )
    .unwrap();
    let module = Module::new(&Engine::default(), &bytes).unwrap();
    let ty = |name: &str| module.exports().find(|e| e.name == name).unwrap().ty;
    assert_eq!(
        ty("im"),
        ExternType::Memory(MemoryType {
            min: 1,
            max: Some(2),
            memory64: false,
            shared: false
        })
    );
    assert_eq!(
        ty("it"),
        ExternType::Table(TableType {
            element: ValType::FuncRef,
            min: 3,
            max: None
        })
    );
    assert_eq!(
        ty("dm"),
        ExternType::Memory(MemoryType {
            min: 4,
            max: None,
            memory64: false,
            shared: false
        })
    );
    assert_eq!(
        ty("dt"),
        ExternType::Table(TableType {
            element: ValType::ExternRef,
            min: 5,
            max: None
        })
    );
}

/// Each superinstruction computes what its two parts compute: every function
/// is written twice, once in the shape the translator fuses and once with
/// the intermediate result in a local (which nothing fuses), and both are
/// run over edge-case inputs, including addresses where `base + imm` wraps.
#[test]
fn fused_instructions_match_their_parts() {
    // (name, type, fused body, the same with the inner result in local $t)
    const PAIRS: &[(&str, &str, &str, &str)] = &[
        ("load_add_imm", "(param $x i32) (result i64) (local $t i32)",
            "(i64.load offset=2 (i32.add (local.get $x) (i32.const 6)))",
            "(local.set $t (i32.add (local.get $x) (i32.const 6))) (i64.load offset=2 (local.get $t))"),
        ("load8_add_neg", "(param $x i32) (result i32) (local $t i32)",
            "(i32.load8_s (i32.add (local.get $x) (i32.const -4)))",
            "(local.set $t (i32.add (local.get $x) (i32.const -4))) (i32.load8_s (local.get $t))"),
        ("load_idx", "(param $x i32) (result i32) (local $t i32) (local $b i32)",
            "(local.set $b (i32.const 5)) (i32.load8_u (i32.add (local.get $b) (i32.shl (local.get $x) (i32.const 1))))",
            "(local.set $b (i32.const 5)) (local.set $t (i32.add (local.get $b) (i32.shl (local.get $x) (i32.const 1)))) (i32.load8_u (local.get $t))"),
        ("load_idx_wrap", "(param $x i32) (result i32) (local $t i32) (local $b i32)",
            "(local.set $b (i32.const 3)) (i32.load16_u offset=1 (i32.add (local.get $b) (i32.shl (local.get $x) (i32.const 2))))",
            "(local.set $b (i32.const 3)) (local.set $t (i32.add (local.get $b) (i32.shl (local.get $x) (i32.const 2)))) (i32.load16_u offset=1 (local.get $t))"),
        ("i32_shru_xor", "(param $x i32) (result i32) (local $t i32)",
            "(i32.xor (i32.shr_u (local.get $x) (i32.const 13)) (local.get $x))",
            "(local.set $t (i32.shr_u (local.get $x) (i32.const 13))) (i32.xor (local.get $t) (local.get $x))"),
        ("i32_shl_xor", "(param $x i32) (result i32) (local $t i32)",
            "(i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 17)))",
            "(local.set $t (i32.shl (local.get $x) (i32.const 17))) (i32.xor (local.get $x) (local.get $t))"),
        ("i64_shru_xor", "(param $x i64) (result i64) (local $t i64)",
            "(i64.xor (i64.shr_u (local.get $x) (i64.const 12)) (local.get $x))",
            "(local.set $t (i64.shr_u (local.get $x) (i64.const 12))) (i64.xor (local.get $t) (local.get $x))"),
        ("i64_shl_xor", "(param $x i64) (result i64) (local $t i64)",
            "(i64.xor (i64.shl (local.get $x) (i64.const 25)) (local.get $x))",
            "(local.set $t (i64.shl (local.get $x) (i64.const 25))) (i64.xor (local.get $t) (local.get $x))"),
        ("i32_xor_and", "(param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32)",
            "(i32.and (i32.xor (local.get $a) (local.get $b)) (local.get $c))",
            "(local.set $t (i32.xor (local.get $a) (local.get $b))) (i32.and (local.get $t) (local.get $c))"),
        ("i32_and_xor", "(param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32)",
            "(i32.xor (local.get $c) (i32.and (local.get $a) (local.get $b)))",
            "(local.set $t (i32.and (local.get $a) (local.get $b))) (i32.xor (local.get $c) (local.get $t))"),
        ("i32_addimm_add", "(param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32)",
            "(i32.add (i32.add (local.get $a) (i32.const 0x428a2f98)) (local.get $b))",
            "(local.set $t (i32.add (local.get $a) (i32.const 0x428a2f98))) (i32.add (local.get $t) (local.get $b))"),
        ("i32_andimm_rotrimm", "(param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32)",
            "(i32.rotr (i32.and (local.get $a) (i32.const 0xff00ff)) (i32.const 8))",
            "(local.set $t (i32.and (local.get $a) (i32.const 0xff00ff))) (i32.rotr (local.get $t) (i32.const 8))"),
        ("i32_rotrimm_andimm", "(param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32)",
            "(i32.and (i32.rotr (local.get $a) (i32.const 24)) (i32.const 0xff00ff))",
            "(local.set $t (i32.rotr (local.get $a) (i32.const 24))) (i32.and (local.get $t) (i32.const 0xff00ff))"),
        ("i32_sub_andimm", "(param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32)",
            "(i32.and (i32.sub (local.get $a) (local.get $b)) (i32.const 0xffff))",
            "(local.set $t (i32.sub (local.get $a) (local.get $b))) (i32.and (local.get $t) (i32.const 0xffff))"),
        ("i32_ltu_add", "(param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32)",
            "(i32.add (local.get $c) (i32.lt_u (local.get $a) (local.get $b)))",
            "(local.set $t (i32.lt_u (local.get $a) (local.get $b))) (i32.add (local.get $c) (local.get $t))"),
        ("f64_mul_sub", "(param $a f64) (param $b f64) (param $c f64) (result f64) (local $t f64)",
            "(f64.sub (f64.mul (local.get $a) (local.get $b)) (local.get $c))",
            "(local.set $t (f64.mul (local.get $a) (local.get $b))) (f64.sub (local.get $t) (local.get $c))"),
        ("f64_mul_sub_from", "(param $a f64) (param $b f64) (param $c f64) (result f64) (local $t f64)",
            "(f64.sub (local.get $c) (f64.mul (local.get $a) (local.get $b)))",
            "(local.set $t (f64.mul (local.get $a) (local.get $b))) (f64.sub (local.get $c) (local.get $t))"),
        ("f64_mulimm_add", "(param $a f64) (param $b f64) (param $c f64) (result f64) (local $t f64)",
            "(f64.add (local.get $c) (f64.mul (local.get $a) (f64.const 0.01)))",
            "(local.set $t (f64.mul (local.get $a) (f64.const 0.01))) (f64.add (local.get $c) (local.get $t))"),
        // `x += k; br_if x < n` (and `x -= -k`), counting the iterations.
        ("count_lt_u", "(param $n i32) (result i32) (local $x i32) (local $i i32) (local $t i32)",
            "(loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (local.set $x (i32.add (local.get $x) (i32.const 3))) (br_if $l (i32.lt_u (local.get $x) (local.get $n)))) (local.get $i)",
            "(loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (local.set $x (i32.add (local.get $x) (i32.const 3))) (local.set $t (i32.lt_u (local.get $x) (local.get $n))) (br_if $l (local.get $t))) (local.get $i)"),
        ("count_lt_s", "(param $n i32) (result i32) (local $x i32) (local $i i32) (local $t i32)",
            "(local.set $x (i32.const -10)) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (local.set $x (i32.sub (local.get $x) (i32.const -3))) (br_if $l (i32.lt_s (local.get $x) (local.get $n)))) (local.get $i)",
            "(local.set $x (i32.const -10)) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (local.set $x (i32.sub (local.get $x) (i32.const -3))) (local.set $t (i32.lt_s (local.get $x) (local.get $n))) (br_if $l (local.get $t))) (local.get $i)"),
        // `br_if (i64.eqz x)`, on the full 64 bits.
        ("i64_is_zero", "(param $x i64) (result i32) (local $t i32)",
            "(block $z (br_if $z (i64.eqz (local.get $x))) (return (i32.const 0))) (i32.const 1)",
            "(block $z (local.set $t (i64.eqz (local.get $x))) (br_if $z (local.get $t)) (return (i32.const 0))) (i32.const 1)"),
    ];
    let funcs: String = PAIRS
        .iter()
        .map(|(name, ty, fused, parts)| {
            format!("(func (export \"{name}\") {ty} {fused})\n(func (export \"{name}_ref\") {ty} {parts})\n")
        })
        .collect();
    let wat = format!(
        "(module (memory 1) (data (i32.const 0) \"\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10\")\n{funcs})"
    );
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&mut store, &Linker::new(), &wat);
    let outcome =
        |store: &mut Store<()>, name: &str, args: &[Val]| match call1(store, inst, name, args) {
            Ok(v) => format!("{v:?}"),
            Err(Error::Trap(t)) => format!("trap {:?}", t.code()),
            Err(e) => panic!("unexpected error {e:?}"),
        };
    let mut same = |name: &str, args: &[Val]| {
        let fused = outcome(&mut store, name, args);
        assert_eq!(
            fused,
            outcome(&mut store, &format!("{name}_ref"), args),
            "{name}{args:?}"
        );
        fused
    };

    let i32s = [
        0i32,
        1,
        3,
        4,
        5,
        8,
        65_520,
        65_527,
        65_528,
        65_536,
        -1,
        -3,
        -6,
        -7,
        -8,
        i32::MIN,
        i32::MAX,
    ];
    for name in [
        "load_add_imm",
        "load8_add_neg",
        "load_idx",
        "load_idx_wrap",
        "i32_shru_xor",
        "i32_shl_xor",
    ] {
        for &x in &i32s {
            same(name, &[Val::I32(x)]);
        }
    }
    // The wrapping cases really are reached: -6 + 6 wraps to address 0, and
    // 3 + (0x4000_0000 << 2) to address 3.
    assert_eq!(
        same("load_add_imm", &[Val::I32(-6)]),
        format!("{:?}", Val::I64(0x0a09080706050403))
    );
    assert_eq!(
        same("load_idx_wrap", &[Val::I32(0x4000_0000)]),
        format!("{:?}", Val::I32(0x0605))
    );
    for name in ["i64_shru_xor", "i64_shl_xor"] {
        for x in [
            0i64,
            1,
            -1,
            0x1234_5678_9abc_def0,
            i64::MIN,
            i64::MAX,
            0x8000_0000,
        ] {
            same(name, &[Val::I64(x)]);
        }
    }
    let triples = [
        (0i32, 0i32, 0i32),
        (-1, 0, 1),
        (0x1234_5678, -0x0edc_ba99, 0x0f0f_0f0f),
        (i32::MIN, i32::MAX, -1),
        (7, 9, 11),
    ];
    for name in [
        "i32_xor_and",
        "i32_and_xor",
        "i32_addimm_add",
        "i32_andimm_rotrimm",
        "i32_rotrimm_andimm",
        "i32_sub_andimm",
        "i32_ltu_add",
    ] {
        for &(a, b, c) in &triples {
            same(name, &[Val::I32(a), Val::I32(b), Val::I32(c)]);
        }
    }
    let f64s = [
        0.0f64,
        -0.0,
        1.5,
        -3.25,
        1e308,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::from_bits(0x7ff4_0000_0000_0001),
    ];
    for name in ["f64_mul_sub", "f64_mul_sub_from", "f64_mulimm_add"] {
        for &a in &f64s {
            for &b in &f64s[..4] {
                same(
                    name,
                    &[
                        Val::F64(a.to_bits()),
                        Val::F64(b.to_bits()),
                        Val::F64(2.5f64.to_bits()),
                    ],
                );
            }
        }
    }
    // Small bounds only: an unsigned bound of -20 would loop 1.4e9 times.
    for x in [0i32, 1, 2, 3, 4, 100, 1001] {
        same("count_lt_u", &[Val::I32(x)]);
    }
    for x in [-20i32, -9, -8, -7, 0, 1, 2, 3, 4, 100] {
        same("count_lt_s", &[Val::I32(x)]);
    }
    for (x, zero) in [(0i64, 1), (1, 0), (0x1_0000_0000, 0), (i64::MIN, 0)] {
        assert_eq!(
            same("i64_is_zero", &[Val::I64(x)]),
            format!("{:?}", Val::I32(zero)),
            "i64_is_zero({x})"
        );
    }
}
