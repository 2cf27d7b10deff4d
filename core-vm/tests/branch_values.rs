//! Regression tests for values carried by branches: `br_if` (taken and not
//! taken), `br_table` and the fused compare-and-branch forms, to the function
//! itself (a return), to blocks, loops and `if`s, from nested blocks, for
//! every number type.
//!
//! The translator once materialised a constant into its register only on the
//! taken edge of a `br_if` that returned, yet recorded it as materialised for
//! the fall-through too, which then read a register nothing had written
//! (issue 12: `i32.const 100 local.get 0 br_if 0 i32.const 1 i32.add`
//! returned 1, not 101).
//!
//! Invariants: each case is one function template, instantiated for i32,
//! i64, f32 and f64 (`T` stands for the type), with expected results that
//! are small integers (exact in every type). Each case is called through a
//! wrapper that first calls `$poison`, which fills the registers the case's
//! frame will occupy with a value no case computes, so a read of an
//! unwritten register shows as a wrong result (a top-level call starts on
//! zeroed registers, which could hide it).

use core_vm::{Engine, Instance, Module, Store, Val};

/// `(name, signature, body, [(i32 arguments, expected results)])`.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static [i32], &'static [i64])],
);

const CASES: &[Case] = &[
    // The shape: a returning `br_if` over a constant.
    ("return_const", "(param i32) (result T)",
        "T.const 100 local.get 0 br_if 0 T.const 1 T.add",
        &[(&[0], &[101]), (&[1], &[100]), (&[0], &[101])]),
    // The same from inside nested blocks (br_if to the function's label).
    ("return_const_nested", "(param i32) (result T)",
        "(block (result T) (block (result T) T.const 100 local.get 0 br_if 2 T.const 1 T.add)) T.const 2 T.add",
        &[(&[0], &[103]), (&[7], &[100])]),
    // Returning a local, and a computed value.
    ("return_local", "(param i32) (param T) (result T)",
        "local.get 1 local.get 0 br_if 0 T.const 1 T.add",
        &[(&[0, 0], &[1]), (&[1, 0], &[0])]),
    ("return_temp", "(param i32) (result T)",
        "T.const 40 T.const 2 T.add local.get 0 br_if 0 T.const 1 T.add",
        &[(&[0], &[43]), (&[1], &[42])]),
    // Two values returned by a `br_if` (a multi-value return).
    ("return_two", "(param i32) (result T T)",
        "T.const 1 T.const 2 local.get 0 br_if 0 T.const 10 T.add",
        &[(&[0], &[1, 12]), (&[1], &[1, 2])]),
    ("return_two_nested", "(param i32) (result T T)",
        "(block (result T T) T.const 1 T.const 2 local.get 0 br_if 1 T.const 10 T.add) T.const 20 T.add",
        &[(&[0], &[1, 32]), (&[1], &[1, 2])]),
    // A block's label: in place, and above other values (copied down).
    ("block_const", "(param i32) (result T)",
        "(block (result T) T.const 100 local.get 0 br_if 0 T.const 1 T.add) T.const 2 T.add",
        &[(&[0], &[103]), (&[1], &[102])]),
    ("block_above", "(param i32) (result T)",
        "(block (result T) T.const 5 T.const 100 local.get 0 br_if 0 T.add) T.const 1 T.add",
        &[(&[0], &[106]), (&[1], &[101])]),
    ("block_from_nested", "(param i32) (result T)",
        "(block (result T) (block (result T) T.const 100 local.get 0 br_if 1 T.const 1 T.add) T.const 2 T.add) T.const 4 T.add",
        &[(&[0], &[107]), (&[1], &[104])]),
    ("block_two", "(param i32) (result T)",
        "(block (result T T) T.const 3 T.const 100 local.get 0 br_if 0 T.const 1 T.add) T.add",
        &[(&[0], &[104]), (&[1], &[103])]),
    // An `if` arm branching to its own label.
    ("if_arm", "(param i32) (result T)",
        "(if (result T) (local.get 0) (then T.const 100 local.get 0 i32.const 1 i32.sub br_if 0 T.const 1 T.add) (else T.const 7))",
        &[(&[0], &[7]), (&[1], &[101]), (&[2], &[100])]),
    // A loop whose parameter is a constant, carried by a not-in-place
    // `br_if` (the condition a fused compare), counting down the argument.
    ("loop_const_param", "(param i32) (result T)",
        "T.const 100 (loop (param T) (result T) drop T.const 7 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))) i32.const 0 i32.gt_s br_if 0 T.const 1 T.add)",
        &[(&[1], &[8]), (&[5], &[8])]),
    // A loop carrying a computed value in place, with `x -= 1; br_if x`
    // (the add-into-branch fusion).
    ("loop_accumulate", "(param i32) (result T)",
        "T.const 0 (loop (param T) (result T) T.const 3 T.add local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0)",
        &[(&[1], &[3]), (&[4], &[12])]),
    // Fused compare-and-branch (register and immediate forms, negated
    // when the branch needs copies or returns).
    ("fused_lt_imm_return", "(param i32) (result T)",
        "T.const 100 local.get 0 i32.const 5 i32.lt_s br_if 0 T.const 1 T.add",
        &[(&[9], &[101]), (&[2], &[100])]),
    ("fused_eq_reg_block", "(param i32) (param i32) (result T)",
        "(block (result T) T.const 100 local.get 0 local.get 1 i32.eq br_if 0 T.const 1 T.add) T.const 2 T.add",
        &[(&[3, 4], &[103]), (&[4, 4], &[102])]),
    ("fused_eqz_return", "(param i32) (result T)",
        "T.const 100 local.get 0 i32.eqz br_if 0 T.const 1 T.add",
        &[(&[1], &[101]), (&[0], &[100])]),
    ("fused_i64_eqz_block", "(param i32) (result T)",
        "(block (result T) T.const 100 local.get 0 i64.extend_i32_u i64.eqz br_if 0 T.const 1 T.add) T.const 2 T.add",
        &[(&[1], &[103]), (&[0], &[102])]),
    ("fused_i64_cmp_return", "(param i32) (result T)",
        "T.const 100 local.get 0 i64.extend_i32_s i64.const -3 i64.gt_s br_if 0 T.const 1 T.add",
        &[(&[-5], &[101]), (&[0], &[100])]),
    // `br_table` with values to the function, blocks and a loop-free nest.
    ("table_const", "(param i32) (result T)",
        "(block (result T) (block (result T) T.const 100 local.get 0 br_table 0 1 2 1) T.const 1 T.add) T.const 2 T.add",
        &[(&[0], &[103]), (&[1], &[102]), (&[2], &[100]), (&[9], &[102])]),
    ("table_above", "(param i32) (result T)",
        "(block (result T) T.const 9 (block (result T) T.const 5 T.const 100 local.get 0 br_table 0 1) T.add) T.const 1 T.add",
        &[(&[0], &[110]), (&[1], &[101])]),
    // A `br_if` not taken, then a `br_table` reading the same constant.
    ("br_if_then_table", "(param i32) (param i32) (result T)",
        "(block (result T) T.const 100 local.get 0 br_if 1 local.get 1 br_table 0 1) T.const 1 T.add",
        &[(&[0, 0], &[101]), (&[0, 1], &[100]), (&[1, 0], &[100])]),
];

/// Fills a frame's operand registers with `POISON` (as wide as they get).
const POISON_FUNC: &str = "(global $p i64 (i64.const 0x5eadbeef5eadbeef))
  (func $poison
    global.get $p global.get $p global.get $p global.get $p
    global.get $p global.get $p global.get $p global.get $p
    global.get $p global.get $p global.get $p global.get $p
    global.get $p global.get $p global.get $p global.get $p
    drop drop drop drop drop drop drop drop
    drop drop drop drop drop drop drop drop)";

fn as_f64(v: &Val) -> f64 {
    match *v {
        Val::I32(x) => x as f64,
        Val::I64(x) => x as f64,
        Val::F32(b) => f32::from_bits(b) as f64,
        Val::F64(b) => f64::from_bits(b),
        ref other => panic!("unexpected result {other:?}"),
    }
}

#[test]
fn branch_values_of_every_type_and_shape() {
    let mut failures = Vec::new();
    let mut runs = 0;
    for ty in ["i32", "i64", "f32", "f64"] {
        let funcs: String = CASES
            .iter()
            .map(|(name, sig, body, _)| {
                let sig = sig.replace('T', ty);
                let body = body.replace('T', ty);
                // The export poisons the registers the case's frame will
                // occupy (both frames start right above the wrapper's
                // parameters), then calls the case with the same arguments.
                let nparams = sig.matches("param").count();
                let args: String = (0..nparams).map(|i| format!("local.get {i} ")).collect();
                format!(
                    "(func ${name} {sig} {body})\n\
                     (func (export \"{name}\") {sig} call $poison {args}call ${name})\n"
                )
            })
            .collect();
        let wat = format!("(module {POISON_FUNC}\n{funcs})");
        let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("{ty}: {e}\n{wat}"));
        let engine = Engine::default();
        let module = Module::new(&engine, &bytes).expect("test module validates");
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).expect("instantiates");
        for (name, _, _, calls) in CASES {
            let f = inst.get_func(&store, name).unwrap();
            let fty = f.ty(&store);
            for (args, expected) in calls.iter() {
                let params: Vec<Val> = args
                    .iter()
                    .zip(fty.params())
                    .map(|(&a, t)| match t {
                        core_vm::ValType::I32 => Val::I32(a),
                        core_vm::ValType::I64 => Val::I64(a as i64),
                        core_vm::ValType::F32 => Val::F32((a as f32).to_bits()),
                        core_vm::ValType::F64 => Val::F64((a as f64).to_bits()),
                        other => panic!("{other}"),
                    })
                    .collect();
                let mut results: Vec<Val> =
                    fty.results().iter().map(|t| Val::default_for(*t)).collect();
                f.call(&mut store, &params, &mut results)
                    .unwrap_or_else(|e| panic!("{ty} {name}{args:?}: {e}"));
                runs += 1;
                let got: Vec<f64> = results.iter().map(as_f64).collect();
                let want: Vec<f64> = expected.iter().map(|&x| x as f64).collect();
                if got != want {
                    failures.push(format!("{ty} {name}{args:?}: got {got:?}, want {want:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} calls wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
