//! Observers and execution snapshots: instruction counts and deadlines,
//! call events, capture at every safe point of a program with loops, calls
//! (direct, indirect, recursive), several memories, a table and globals,
//! and resumption of each capture in a fresh store to the same result as
//! an uninterrupted run; snapshots that do not fit are refused.
//!
//! Invariants: every test builds its own engine and store from WAT text.

use core_vm::{
    Caller, Context, Engine, Error, ExecState, Func, FuncType, Instance, Linker, Module, Observer,
    Store, Val, ValType, Wants,
};
use std::cell::RefCell;
use std::rc::Rc;

/// Sums a host-logged checksum over a loop that calls a recursive function
/// through a table, grows memory and writes to two memories and globals.
const PROGRAM: &str = r#"
(module
  (import "env" "log" (func $log (param i64)))
  (memory $m0 1)
  (memory $m1 1)
  (global $acc (mut i64) (i64.const 7))
  (table 2 funcref)
  (elem (i32.const 0) $fib $sq)
  (type $t (func (param i32) (result i32)))
  (func $fib (type $t) (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add
        (call $fib (i32.sub (local.get $n) (i32.const 1)))
        (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func $sq (type $t) (param $x i32) (result i32)
    (i32.mul (local.get $x) (local.get $x)))
  (func (export "main") (param $n i32) (result i64)
    (local $i i32) (local $v i32)
    (drop (memory.grow $m0 (i32.const 1)))
    (loop $l
      ;; a constant and a local stay on the operand stack across the call
      (i64.const 1000)
      (local.get $i)
      (call_indirect (type $t) (i32.rem_u (local.get $i) (i32.const 15)) (i32.rem_u (local.get $i) (i32.const 2)))
      (local.set $v)
      (i64.extend_i32_u)
      (i64.add)
      (i64.mul (global.get $acc) (i64.const 31))
      (i64.add (i64.extend_i32_u (local.get $v)))
      (i64.add)
      (global.set $acc)
      (i32.store $m0 offset=65536 (i32.mul (local.get $i) (i32.const 4)) (local.get $v))
      (i32.store8 $m1 (local.get $i) (local.get $i))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (call $log (global.get $acc))
    (i64.add (global.get $acc) (i64.load $m0 offset=65540 (i32.const 0)))))
"#;

struct Data {
    logged: Vec<i64>,
}

fn setup(engine: &Engine) -> (Store<Data>, Instance) {
    let mut store = Store::new(engine, Data { logged: Vec::new() });
    let mut linker = Linker::new();
    linker.func_new(
        "env",
        "log",
        FuncType::new([ValType::I64], []),
        |mut c: Caller<'_, Data>, args, _| {
            c.data_mut().logged.push(args[0].i64().unwrap());
            Ok(())
        },
    );
    let m = Module::new(engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let inst = linker.instantiate(&mut store, &m).unwrap();
    (store, inst)
}

fn main_of(store: &Store<Data>, inst: Instance) -> Func {
    inst.get_func(store, "main").unwrap()
}

/// Asks for a safe point at instruction `at` and captures it there.
struct Capturer {
    at: u64,
    state: Rc<RefCell<Option<ExecState>>>,
    calls: Rc<RefCell<Vec<String>>>,
    watch_calls: bool,
}

impl Observer<Data> for Capturer {
    fn wants(&self) -> Wants {
        Wants {
            calls: self.watch_calls,
            instrs: false,
        }
    }
    fn first_deadline(&self) -> u64 {
        self.at
    }
    fn on_deadline(&mut self, cx: &mut Context<'_, Data>) -> u64 {
        cx.request_safe_point();
        u64::MAX
    }
    fn on_safe_point(&mut self, cx: &mut Context<'_, Data>) {
        if self.state.borrow().is_none() {
            *self.state.borrow_mut() = Some(cx.capture().expect("capture at a safe point"));
        }
    }
    fn on_call(&mut self, cx: &mut Context<'_, Data>, f: Func) {
        self.calls.borrow_mut().push(format!(
            "call {} depth {}",
            f.index(),
            cx.stack_funcs().len()
        ));
    }
    fn on_return(&mut self, _: &mut Context<'_, Data>, f: Func) {
        self.calls
            .borrow_mut()
            .push(format!("return {}", f.index()));
    }
}

fn run_plain(n: i32) -> (i64, Vec<i64>, u64) {
    let engine = Engine::default();
    let (mut store, inst) = setup(&engine);
    // An observer that only counts.
    struct Count;
    impl Observer<Data> for Count {}
    store.set_observer(Box::new(Count));
    let mut out = [Val::I64(0)];
    main_of(&store, inst)
        .call(&mut store, &[Val::I32(n)], &mut out)
        .unwrap();
    let count = store.instr_count();
    (out[0].i64().unwrap(), store.into_data().logged, count)
}

#[test]
fn unobserved_and_observed_runs_agree() {
    let engine = Engine::default();
    let (mut store, inst) = setup(&engine);
    let mut out = [Val::I64(0)];
    main_of(&store, inst)
        .call(&mut store, &[Val::I32(20)], &mut out)
        .unwrap();
    let (observed, logged, count) = run_plain(20);
    assert_eq!(out[0].i64().unwrap(), observed);
    assert_eq!(store.into_data().logged, logged);
    assert!(count > 500, "count {count}");
}

#[test]
fn every_capture_resumes_to_the_same_result() {
    let n = 12;
    let (expected, expected_log, total) = run_plain(n);
    let engine = Engine::default();
    let mut seen = std::collections::HashSet::new();
    let mut at = 1;
    while at <= total {
        let state = Rc::new(RefCell::new(None));
        let (mut store, inst) = setup(&engine);
        store.set_observer(Box::new(Capturer {
            at,
            state: state.clone(),
            calls: Default::default(),
            watch_calls: false,
        }));
        let mut out = [Val::I64(0)];
        main_of(&store, inst)
            .call(&mut store, &[Val::I32(n)], &mut out)
            .unwrap();
        assert_eq!(out[0].i64().unwrap(), expected, "capturing run at {at}");
        let Some(state) = state.borrow_mut().take() else {
            at += 1;
            continue;
        };
        seen.insert(state.instr_count);
        // Through the serialised form, into a fresh store.
        let mut bytes = Vec::new();
        ciborium::into_writer(&state, &mut bytes).unwrap();
        let state: ExecState = ciborium::from_reader(&bytes[..]).unwrap();
        let (mut fresh, _) = setup(&engine);
        let results = fresh.resume(&state).expect("resume");
        assert_eq!(results, vec![Val::I64(expected)], "resumed from {at}");
        assert_eq!(fresh.into_data().logged, expected_log, "resumed from {at}");
        at += 1;
    }
    // Safe points at function entries and loop headers at many depths.
    assert!(seen.len() > 50, "{} distinct safe points", seen.len());
}

#[test]
fn deadlines_count_every_instruction() {
    struct Sampler {
        every: u64,
        samples: Rc<RefCell<u64>>,
    }
    impl Observer<Data> for Sampler {
        fn first_deadline(&self) -> u64 {
            self.every
        }
        fn on_deadline(&mut self, cx: &mut Context<'_, Data>) -> u64 {
            *self.samples.borrow_mut() += 1;
            assert!(!cx.stack_funcs().is_empty());
            cx.instr_count() + self.every
        }
    }
    let (_, _, total) = run_plain(15);
    for every in [1, 7, 100] {
        let engine = Engine::default();
        let (mut store, inst) = setup(&engine);
        let samples = Rc::new(RefCell::new(0));
        store.set_observer(Box::new(Sampler {
            every,
            samples: samples.clone(),
        }));
        let mut out = [Val::I64(0)];
        main_of(&store, inst)
            .call(&mut store, &[Val::I32(15)], &mut out)
            .unwrap();
        assert_eq!(store.instr_count(), total);
        assert_eq!(*samples.borrow(), total / every, "every {every}");
    }
}

#[test]
fn calls_and_returns_pair_up() {
    let engine = Engine::default();
    let (mut store, inst) = setup(&engine);
    let calls = Rc::new(RefCell::new(Vec::new()));
    store.set_observer(Box::new(Capturer {
        at: u64::MAX,
        state: Default::default(),
        calls: calls.clone(),
        watch_calls: true,
    }));
    let mut out = [Val::I64(0)];
    let main = main_of(&store, inst);
    main.call(&mut store, &[Val::I32(3)], &mut out).unwrap();
    let calls = calls.borrow();
    let entered = calls.iter().filter(|c| c.starts_with("call")).count();
    let returned = calls.iter().filter(|c| c.starts_with("return")).count();
    assert_eq!(entered, returned, "{calls:?}");
    // main, 3 table calls (fib 0, sq 1, fib 2 -> 2 more), the host log.
    assert_eq!(entered, 1 + 3 + 2 + 1, "{calls:?}");
    assert_eq!(calls[0], format!("call {} depth 1", main.index()));
    assert_eq!(calls.last().unwrap(), &format!("return {}", main.index()));
}

#[test]
fn snapshots_that_do_not_fit_are_refused() {
    let engine = Engine::default();
    let state = Rc::new(RefCell::new(None));
    let (mut store, inst) = setup(&engine);
    store.set_observer(Box::new(Capturer {
        at: 300,
        state: state.clone(),
        calls: Default::default(),
        watch_calls: false,
    }));
    let mut out = [Val::I64(0)];
    main_of(&store, inst)
        .call(&mut store, &[Val::I32(10)], &mut out)
        .unwrap();
    let state = state.borrow_mut().take().unwrap();
    let check = |mut s: ExecState, edit: &dyn Fn(&mut ExecState), what: &str| {
        edit(&mut s);
        let (mut fresh, _) = setup(&engine);
        match fresh.resume(&s) {
            Err(Error::Snapshot(msg)) => assert!(msg.contains(what), "{msg}"),
            other => panic!("expected a snapshot error with {what}, got {other:?}"),
        }
    };
    check(state.clone(), &|s| s.shape.funcs += 1, "store has");
    check(
        state.clone(),
        &|s| s.frames[0].wasm_offset += 1,
        "safe point",
    );
    check(
        state.clone(),
        &|s| s.frames[0].locals.pop().map(drop).unwrap_or(()),
        "locals",
    );
    check(state.clone(), &|s| s.memories[0].pages = 1000, "pages");
    check(state.clone(), &|s| s.frames.clear(), "no frames");
}
