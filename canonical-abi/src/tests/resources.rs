//! `own` / `borrow` handles through the `ResourceTables` hook, using the
//! spec-faithful `HandleTable`.

use super::*;
use ValueType as T;

const RT: ResourceTypeId = ResourceTypeId(1);
const OTHER: ResourceTypeId = ResourceTypeId(2);

#[test]
fn own_moves_ownership() {
    let mut env = Env::new(StringEncoding::Utf8);
    // Lowering an own creates a handle (index 0 is reserved).
    let mut flat = Vec::new();
    lower_flat(&mut env.cx(), &Val::Resource(77), &T::Own(RT), &mut flat).unwrap();
    assert_eq!(flat, vec![FlatVal::I32(1)]);
    assert_eq!(env.res.resource_rep(RT, 1), Ok(77));
    // Lifting it removes the handle and yields the rep.
    assert_eq!(
        lift_flat(&mut env.cx(), &mut CoreValueIter::new(&flat), &T::Own(RT)),
        Ok(Val::Resource(77))
    );
    assert_eq!(env.res.get(1), Err(AbiError::InvalidHandle(1)));
    // A second lift of the same index traps.
    assert_eq!(
        lift_flat(&mut env.cx(), &mut CoreValueIter::new(&flat), &T::Own(RT)),
        Err(AbiError::InvalidHandle(1))
    );
    // Freed slots are reused.
    assert_eq!(env.res.resource_new(RT, 5), Ok(1));
    assert_eq!(env.res.resource_new(RT, 6), Ok(2));
}

#[test]
fn handle_lift_traps() {
    let mut env = Env::new(StringEncoding::Utf8);
    let own = env.res.resource_new(RT, 10).unwrap();
    let lift = |env: &mut Env, t: ValueType, i: u32| {
        lift_flat(
            &mut env.cx(),
            &mut CoreValueIter::new(&[FlatVal::I32(i as i32)]),
            &t,
        )
    };
    assert_eq!(
        lift(&mut env, T::Own(RT), 0),
        Err(AbiError::InvalidHandle(0))
    );
    assert_eq!(
        lift(&mut env, T::Own(RT), 99),
        Err(AbiError::InvalidHandle(99))
    );
    assert_eq!(
        lift(&mut env, T::Own(OTHER), own),
        Err(AbiError::HandleTypeMismatch { handle: own })
    );
    assert_eq!(
        lift(&mut env, T::Borrow(OTHER), own),
        Err(AbiError::HandleTypeMismatch { handle: own })
    );
    // Lending an own (lift_borrow) blocks moving it until the call ends.
    assert_eq!(lift(&mut env, T::Borrow(RT), own), Ok(Val::Resource(10)));
    assert_eq!(
        lift(&mut env, T::Own(RT), own),
        Err(AbiError::HandleLent(own))
    );
    assert_eq!(
        env.res.resource_drop(RT, own),
        Err(AbiError::HandleLent(own))
    );
    env.res.finish_import_call();
    // A borrow handle cannot be lifted as own.
    let borrowed = env.res.lower_borrow(RT, 11).unwrap();
    assert_eq!(
        lift(&mut env, T::Own(RT), borrowed),
        Err(AbiError::NotAnOwnHandle(borrowed))
    );
    // After the lend ended, the own moves.
    assert_eq!(lift(&mut env, T::Own(RT), own), Ok(Val::Resource(10)));
    for e in [
        AbiError::HandleLent(0),
        AbiError::NotAnOwnHandle(0),
        AbiError::InvalidHandle(0),
    ] {
        assert!(e.is_trap());
    }
}

#[test]
fn borrows_must_be_dropped_before_the_call_ends() {
    let mut env = Env::new(StringEncoding::Utf8);
    // canon lift lowering a borrow argument: a borrow handle, counted.
    let mut flat = Vec::new();
    lower_flat(&mut env.cx(), &Val::Resource(5), &T::Borrow(RT), &mut flat).unwrap();
    let [FlatVal::I32(h)] = flat[..] else {
        panic!()
    };
    assert_eq!(env.res.num_borrows, 1);
    assert_eq!(
        env.res.finish_export_call(),
        Err(AbiError::BorrowsOutstanding(1))
    );
    assert_eq!(env.res.resource_drop(RT, h as u32), Ok(None));
    assert_eq!(env.res.finish_export_call(), Ok(()));
}

#[test]
fn borrow_into_the_implementing_instance_passes_the_rep() {
    let mut env = Env::new(StringEncoding::Utf8);
    env.res.implemented.insert(RT);
    let mut flat = Vec::new();
    lower_flat(
        &mut env.cx(),
        &Val::Resource(1234),
        &T::Borrow(RT),
        &mut flat,
    )
    .unwrap();
    assert_eq!(flat, vec![FlatVal::I32(1234)]);
    assert_eq!(env.res.num_borrows, 0);
}

#[test]
fn dropping_an_own_returns_the_rep_for_the_destructor() {
    let mut env = Env::new(StringEncoding::Utf8);
    let h = env.res.resource_new(RT, 9).unwrap();
    assert_eq!(
        env.res.resource_drop(OTHER, h),
        Err(AbiError::HandleTypeMismatch { handle: h })
    );
    assert_eq!(env.res.resource_drop(RT, h), Ok(Some(9)));
    assert_eq!(
        env.res.resource_drop(RT, h),
        Err(AbiError::InvalidHandle(h))
    );
}

#[test]
fn handles_inside_memory() {
    let mut env = Env::new(StringEncoding::Utf8);
    let t = rec(&[("file", T::Own(RT)), ("dir", T::Borrow(OTHER))]);
    let v = Val::Record(vec![
        ("file".into(), Val::Resource(1)),
        ("dir".into(), Val::Resource(2)),
    ]);
    store(&mut env.cx(), &v, &t, 64).unwrap();
    assert_eq!(env.peek(64, 8), [1, 0, 0, 0, 2, 0, 0, 0]);
    assert_eq!(load(&mut env.cx(), 64, &t), Ok(v));
    assert_eq!(env.res.get(1), Err(AbiError::InvalidHandle(1))); // own moved out
    assert_eq!(env.res.get(2).map(|h| h.num_lends), Ok(1)); // borrow lent
}
