//! MAX_FLAT_PARAMS / MAX_FLAT_RESULTS: spilling parameters through
//! `realloc`, returning results through a pointer or a `retptr`.

use super::*;
use ValueType as T;

fn u32s(n: u32) -> (Vec<ValueType>, Vec<Val>) {
    (
        (0..n).map(|_| T::U32).collect(),
        (0..n).map(|i| Val::U32(i * 10)).collect(),
    )
}

#[test]
fn sixteen_params_stay_flat() {
    let mut env = Env::new(StringEncoding::Utf8);
    let (ts, vs) = u32s(16);
    let flat = lower_values(&mut env.cx(), MAX_FLAT_PARAMS, &vs, &ts, None).unwrap();
    assert_eq!(
        flat,
        (0..16).map(|i| FlatVal::I32(i * 10)).collect::<Vec<_>>()
    );
    assert!(env.mem.calls.is_empty());
    let back = lift_values(
        &mut env.cx(),
        MAX_FLAT_PARAMS,
        &mut CoreValueIter::new(&flat),
        &ts,
    )
    .unwrap();
    assert_eq!(back, vs);
}

#[test]
fn seventeen_params_spill_through_realloc() {
    let mut env = Env::new(StringEncoding::Utf8);
    let (ts, vs) = u32s(17);
    let ft = FuncType {
        params: ts
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("p{i}"), t.clone()))
            .collect(),
        result: None,
    };
    assert_eq!(
        flatten_functype(&ft, FlattenContext::Lift).params,
        vec![CoreType::I32]
    );

    // canon lift: lower the arguments for the callee.
    let flat = lower_values(&mut env.cx(), MAX_FLAT_PARAMS, &vs, &ft.param_types(), None).unwrap();
    assert_eq!(env.mem.calls.len(), 1);
    let call = env.mem.calls[0];
    assert_eq!(
        (call.old_ptr, call.old_size, call.align, call.new_size),
        (0, 0, 4, 68)
    );
    assert_eq!(flat, vec![FlatVal::I32(call.result as i32)]);
    for i in 0..17 {
        assert_eq!(env.peek(call.result + 4 * i, 4), (i * 10).to_le_bytes());
    }

    // canon lower: lift the spilled arguments back.
    let mut vi = CoreValueIter::new(&flat);
    let back = lift_values(&mut env.cx(), MAX_FLAT_PARAMS, &mut vi, &ft.param_types()).unwrap();
    assert!(vi.done());
    assert_eq!(back, vs);
}

#[test]
fn mixed_params_spill_with_tuple_layout() {
    let mut env = Env::new(StringEncoding::Utf8);
    // 1 + 1 + 2 + 13*1 = 17 flat values
    let mut ts = vec![T::U8, T::U64, T::String];
    let mut vs = vec![Val::U8(1), Val::U64(2), Val::string("three")];
    ts.extend(std::iter::repeat_n(T::F32, 13));
    vs.extend((0..13).map(|i| Val::Float32(i as f32)));
    assert_eq!(flatten_types(&ts).len(), 17);
    let flat = lower_values(&mut env.cx(), MAX_FLAT_PARAMS, &vs, &ts, None).unwrap();
    let [FlatVal::I32(ptr)] = flat[..] else {
        panic!("{flat:?}")
    };
    let ptr = ptr as u32;
    // tuple<u8, u64, string, f32 x13>: u8@0, u64@8, string@16, f32s@24..
    assert_eq!(ptr % 8, 0);
    assert_eq!(env.peek(ptr, 1), [1]);
    assert_eq!(env.peek(ptr + 8, 8), 2u64.to_le_bytes());
    assert_eq!(env.peek(ptr + 28, 4), 1.0f32.to_bits().to_le_bytes());
    // the tuple (76 bytes rounded up to its 8-byte alignment) is allocated
    // before the string inside it
    assert_eq!(env.mem.calls[0].new_size, 80);
    assert_eq!(env.mem.calls[0].align, 8);
    assert_eq!(env.mem.calls[1].new_size, 5);
    let back = lift_values(
        &mut env.cx(),
        MAX_FLAT_PARAMS,
        &mut CoreValueIter::new(&flat),
        &ts,
    )
    .unwrap();
    assert_eq!(back, vs);
}

#[test]
fn lift_context_results_come_back_through_a_pointer() {
    // canon lift of `func() -> string`: the callee returns one i32 pointing
    // at (ptr, len).
    let mut env = Env::new(StringEncoding::Utf8);
    let ft = FuncType {
        params: vec![],
        result: Some(T::String),
    };
    let sig = flatten_functype(&ft, FlattenContext::Lift);
    assert_eq!((sig.params.len(), sig.results), (0, vec![CoreType::I32]));
    env.poke(200, b"returned");
    env.poke(96, &200u32.to_le_bytes());
    env.poke(100, &8u32.to_le_bytes());
    let results = [FlatVal::I32(96)];
    let mut vi = CoreValueIter::new(&results);
    let vals = lift_values(&mut env.cx(), MAX_FLAT_RESULTS, &mut vi, &ft.result_types()).unwrap();
    assert_eq!(vals, vec![Val::string("returned")]);
    assert!(vi.done());
}

#[test]
fn one_flat_result_is_returned_directly() {
    let mut env = Env::new(StringEncoding::Utf8);
    let flat = lower_values(
        &mut env.cx(),
        MAX_FLAT_RESULTS,
        &[Val::U64(5)],
        &[T::U64],
        None,
    )
    .unwrap();
    assert_eq!(flat, vec![FlatVal::I64(5)]);
    let flat = lower_values(
        &mut env.cx(),
        MAX_FLAT_RESULTS,
        &[],
        &[] as &[ValueType],
        None,
    )
    .unwrap();
    assert!(flat.is_empty());
}

#[test]
fn lower_context_results_go_through_retptr() {
    // canon lower of `func(a: u32, b: u32) -> tuple<string, u64>`: the core
    // caller passes (a, b, retptr).
    let mut env = Env::new(StringEncoding::Utf16);
    let ret = T::Tuple(vec![T::String, T::U64]);
    let ft = FuncType {
        params: vec![("a".into(), T::U32), ("b".into(), T::U32)],
        result: Some(ret.clone()),
    };
    let sig = flatten_functype(&ft, FlattenContext::Lower);
    assert_eq!(sig.params, vec![CoreType::I32; 3]);
    assert!(sig.results.is_empty());

    let retptr = 512;
    let args = [FlatVal::I32(3), FlatVal::I32(4), FlatVal::I32(retptr)];
    let mut vi = CoreValueIter::new(&args);
    let params = lift_values(&mut env.cx(), MAX_FLAT_PARAMS, &mut vi, &ft.param_types()).unwrap();
    assert_eq!(params, vec![Val::U32(3), Val::U32(4)]);

    let result = Val::Tuple(vec![Val::string("π"), Val::U64(7)]);
    let flat = lower_values(
        &mut env.cx(),
        MAX_FLAT_RESULTS,
        std::slice::from_ref(&result),
        &ft.result_types(),
        Some(&mut vi),
    )
    .unwrap();
    assert!(flat.is_empty());
    assert!(vi.done());
    // Only the string was allocated (utf8 -> utf16: worst case, then
    // shrink); the tuple went to the caller's retptr.
    let sizes: Vec<u32> = env.mem.calls.iter().map(|c| c.new_size).collect();
    assert_eq!(sizes, vec![4, 2]);
    assert_eq!(load(&mut env.cx(), retptr as u32, &ret).unwrap(), result);
}

#[test]
fn lower_context_with_spilled_params_and_retptr() {
    // canon lower of a 17-param function with a string result:
    // core params are (params_ptr, retptr).
    let mut env = Env::new(StringEncoding::Utf8);
    let (ts, vs) = u32s(17);
    let ft = FuncType {
        params: ts
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("p{i}"), t.clone()))
            .collect(),
        result: Some(T::String),
    };
    assert_eq!(
        flatten_functype(&ft, FlattenContext::Lower).params,
        vec![CoreType::I32; 2]
    );
    let params_ptr = 1024u32;
    for (i, v) in vs.iter().enumerate() {
        store(&mut env.cx(), v, &T::U32, params_ptr + 4 * i as u32).unwrap();
    }
    let args = [FlatVal::I32(params_ptr as i32), FlatVal::I32(2048)];
    let mut vi = CoreValueIter::new(&args);
    let params = lift_values(&mut env.cx(), MAX_FLAT_PARAMS, &mut vi, &ft.param_types()).unwrap();
    assert_eq!(params, vs);
    let flat = lower_values(
        &mut env.cx(),
        MAX_FLAT_RESULTS,
        &[Val::string("ok")],
        &ft.result_types(),
        Some(&mut vi),
    )
    .unwrap();
    assert!(flat.is_empty() && vi.done());
    assert_eq!(
        load(&mut env.cx(), 2048, &T::String).unwrap(),
        Val::string("ok")
    );
}
