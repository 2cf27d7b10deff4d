#!/usr/bin/env python3
"""Generates abi-roundtrip.wast: one guest component per (Canonical ABI type,
string encoding), each exporting `roundtrip: func(x: T) -> T` that passes its
argument to the lowered host import `echo: func(x: T) -> T` and returns what
the host gives back.

A call from the runner therefore goes: host `Val` -> lower into the guest
(flat, or spilled to memory through `realloc` above MAX_FLAT_PARAMS) -> core
code -> lift out of the guest (flat or memory, with the lifting checks) ->
host `echo` -> lower into the guest through the `retptr` (above
MAX_FLAT_RESULTS) -> lift the result from memory -> compare. The core code is
the same for every type (it only forwards flat values or pointers), so the
file is generated; run `python3 gen_abi.py > abi-roundtrip.wast` after
editing. The conformance runner (tests/component_wast.rs) provides `echo`.
"""

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1


def join(a, b):
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def flat(t):
    if isinstance(t, str):
        return {"bool": ["i32"], "s8": ["i32"], "u8": ["i32"], "s16": ["i32"], "u16": ["i32"],
                "s32": ["i32"], "u32": ["i32"], "char": ["i32"], "s64": ["i64"], "u64": ["i64"],
                "f32": ["f32"], "f64": ["f64"], "string": ["i32", "i32"]}[t]
    k = t[0]
    if k == "list":
        return ["i32", "i32"]
    if k == "record":
        return [c for _, ft in t[1] for c in flat(ft)]
    if k == "tuple":
        return [c for ft in t[1] for c in flat(ft)]
    if k in ("enum", "flags"):
        return ["i32"]
    cases = variant_cases(t)
    out = []
    for p in cases:
        if p is None:
            continue
        for i, c in enumerate(flat(p)):
            if i < len(out):
                out[i] = join(out[i], c)
            else:
                out.append(c)
    return ["i32"] + out


def variant_cases(t):
    k = t[0]
    if k == "variant":
        return [p for _, p in t[1]]
    if k == "option":
        return [None, t[1]]
    if k == "result":
        return [t[1], t[2]]
    raise ValueError(t)


def wat(t):
    if isinstance(t, str):
        return t
    k = t[0]
    if k == "list":
        return f"(list {wat(t[1])})"
    if k == "record":
        return "(record " + " ".join(f'(field "{n}" {wat(ft)})' for n, ft in t[1]) + ")"
    if k == "tuple":
        return "(tuple " + " ".join(wat(ft) for ft in t[1]) + ")"
    if k == "variant":
        return "(variant " + " ".join(f'(case "{n}")' if p is None else f'(case "{n}" {wat(p)})'
                                      for n, p in t[1]) + ")"
    if k == "enum":
        return "(enum " + " ".join(f'"{n}"' for n in t[1]) + ")"
    if k == "flags":
        return "(flags " + " ".join(f'"{n}"' for n in t[1]) + ")"
    if k == "option":
        return f"(option {wat(t[1])})"
    if k == "result":
        ok = "" if t[1] is None else " " + wat(t[1])
        err = "" if t[2] is None else f" (error {wat(t[2])})"
        return f"(result{ok}{err})"
    raise ValueError(t)


def component(t, enc):
    ty = wat(t)
    n = len(flat(t))
    core_params = flat(t) if n <= MAX_FLAT_PARAMS else ["i32"]
    spill_result = n > MAX_FLAT_RESULTS
    p = " ".join(core_params)
    export_sig = f"(param {p})" + (" (result i32)" if spill_result else f" (result {flat(t)[0]})")
    import_sig = f"(param {p}" + (" i32)" if spill_result else f") (result {flat(t)[0]})")
    gets = " ".join(f"(local.get {i})" for i in range(len(core_params)))
    body = f"{gets} (i32.const 1024) (call $echo) (i32.const 1024)" if spill_result else f"{gets} (call $echo)"
    opts = f'(memory (core memory $libc "mem")) (realloc (core func $libc "realloc")) string-encoding={enc}'
    # Records, variants, enums and flags must be named (imported/exported)
    # to appear in an imported or exported function's type.
    named = not isinstance(t, str) and t[0] in ("record", "variant", "enum", "flags") or "(record" in ty \
        or "(variant" in ty or "(enum" in ty or "(flags" in ty
    types = f"(type $t {ty})"
    et = "$t"
    if named:
        types = f'(type $t0 {ty})\n  (import "t" (type $t (eq $t0)))\n  (export $te "te" (type $t))'
        et = "$te"
    return f"""(component
  {types}
  (import "echo" (func $echo (param "x" $t) (result $t)))
  (core module $Libc
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 4096))
    ;; A bump allocator that grows the memory when needed; shrinking keeps
    ;; the block, growing copies the old contents.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32) (local $end i32)
      (if (i32.and (i32.ne (local.get 0) (i32.const 0)) (i32.le_u (local.get 3) (local.get 1)))
        (then (return (local.get 0))))
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (local.set $end (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end)
                (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))))))
      (global.set $bump (local.get $end))
      (if (i32.ne (local.get 0) (i32.const 0))
        (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
      (local.get $p)))
  (core instance $libc (instantiate $Libc))
  (core func $echo_lowered (canon lower (func $echo) {opts}))
  (core module $Main
    (import "host" "echo" (func $echo {import_sig}))
    (func (export "roundtrip") {export_sig} {body}))
  (core instance $main (instantiate $Main (with "host" (instance (export "echo" (func $echo_lowered))))))
  (func (export "roundtrip") (param "x" {et}) (result {et})
    (canon lift (core func $main "roundtrip") {opts}))
)"""


# (type, [values in wast syntax])
S = "str.const"
CASES = [
    ("bool", ["(bool.const true)", "(bool.const false)"]),
    ("s8", ["(s8.const -128)", "(s8.const 127)", "(s8.const -1)"]),
    ("u8", ["(u8.const 0)", "(u8.const 255)"]),
    ("s16", ["(s16.const -32768)", "(s16.const 32767)"]),
    ("u16", ["(u16.const 65535)"]),
    ("s32", ["(s32.const -2147483648)", "(s32.const 2147483647)"]),
    ("u32", ["(u32.const 4294967295)"]),
    ("s64", ["(s64.const -9223372036854775808)", "(s64.const 9223372036854775807)"]),
    ("u64", ["(u64.const 18446744073709551615)"]),
    ("f32", ["(f32.const -1.5)", "(f32.const inf)", "(f32.const nan)", "(f32.const 0x1p-149)"]),
    ("f64", ["(f64.const 3.141592653589793)", "(f64.const -inf)", "(f64.const nan)"]),
    ("char", ['(char.const "a")', '(char.const "\\u{ff}")', '(char.const "\\u{d7ff}")',
              '(char.const "\\u{e000}")', '(char.const "\\u{10ffff}")', '(char.const "\\u{1f600}")']),
    ("string", [f'({S} "")', f'({S} "hello")', f'({S} "caf\\u{{e9}} \\u{{ff}}")',
                f'({S} "\\u{{3b1}}\\u{{3b2}} \\u{{4e16}}\\u{{754c}}")', f'({S} "emoji \\u{{1f600}}!")',
                f'({S} "nul\\00in")']),
    (("list", "u8"), ["(list.const)", "(list.const (u8.const 1) (u8.const 2) (u8.const 255))"]),
    (("list", "u64"), ["(list.const (u64.const 1) (u64.const 18446744073709551615))"]),
    (("list", "string"), [f'(list.const ({S} "a") ({S} "") ({S} "\\u{{1f600}}\\u{{e9}}"))']),
    (("list", ("list", "char")), ['(list.const (list.const (char.const "x")) (list.const))']),
    (("list", ("tuple", ["u8", "u32"])), ["(list.const (tuple.const (u8.const 7) (u32.const 8)) "
                                           "(tuple.const (u8.const 255) (u32.const 4294967295)))"]),
    (("record", [("a", "u8"), ("b", "string"), ("c", "u64")]),
     [f'(record.const (field "a" u8.const 1) (field "b" {S} "bee") (field "c" u64.const 3))']),
    (("tuple", ["u8", "u16", "f64", "char"]),
     ['(tuple.const (u8.const 1) (u16.const 2) (f64.const 0.5) (char.const "\\u{1f600}"))']),
    (("tuple", ["u64"] * 17),  # 17 flat params: spilled to memory through realloc
     ["(tuple.const " + " ".join(f"(u64.const {i})" for i in range(17)) + ")"]),
    (("tuple", ["string"] * 9),  # 18 flat params
     ["(tuple.const " + " ".join(f'({S} "s{i}\\u{{e9}}")' for i in range(9)) + ")"]),
    (("variant", [("a", None), ("b", "u32"), ("c", "string"), ("d", "f64"), ("e", "f32")]),
     ['(variant.const "a")', '(variant.const "b" (u32.const 42))', f'(variant.const "c" ({S} "see"))',
      '(variant.const "d" (f64.const -0.25))', '(variant.const "e" (f32.const 1.5))']),
    (("variant", [("x", "s64"), ("y", "f32")]), ['(variant.const "x" (s64.const -5))',
                                                  '(variant.const "y" (f32.const 2.5))']),
    (("enum", ["x", "y", "z"]), ['(enum.const "x")', '(enum.const "z")']),
    (("enum", [f"e{i}" for i in range(300)]), ['(enum.const "e0")', '(enum.const "e299")']),  # u16 discriminant
    (("option", "u32"), ["(option.none)", "(option.some (u32.const 9))"]),
    (("option", "string"), ["(option.none)", f'(option.some ({S} "opt"))']),
    (("option", ("option", "u8")), ["(option.some (option.none))", "(option.some (option.some (u8.const 1)))"]),
    (("result", "u32", "string"), ["(result.ok (u32.const 1))", f'(result.err ({S} "bad"))']),
    (("result", None, None), ["(result.ok)", "(result.err)"]),
    (("result", "string", None), [f'(result.ok ({S} "fine"))', "(result.err)"]),
    (("result", None, "u64"), ["(result.ok)", "(result.err (u64.const 77))"]),
    (("flags", ["a", "b", "c"]), ["(flags.const)", '(flags.const "a" "c")', '(flags.const "a" "b" "c")']),
    (("flags", [f"f{i}" for i in range(12)]), ['(flags.const "f0" "f11")']),  # 2-byte flags
    (("flags", [f"f{i}" for i in range(32)]), ['(flags.const "f0" "f31")']),  # 4-byte flags
    (("record", [("s", "string"), ("l", ("list", ("option", "string"))), ("v", ("result", "u8", "string"))]),
     [f'(record.const (field "s" {S} "\\u{{100}}") (field "l" list.const (option.none) (option.some ({S} "in"))) '
      f'(field "v" result.err ({S} "\\u{{1f600}}")))']),
]

ENCODINGS = ["utf8", "utf16", "latin1+utf16"]


def main():
    print(";; Generated by gen_abi.py: round trips of every Canonical ABI value type")
    print(";; through a guest component, in each string encoding. Do not edit by hand.")
    for enc in ENCODINGS:
        for t, vals in CASES:
            print()
            print(f";; {wat(t) if len(wat(t)) < 100 else wat(t)[:97] + '...'}  [{enc}]")
            print(component(t, enc))
            for v in vals:
                print(f'(assert_return (invoke "roundtrip" {v}) {v})')


if __name__ == "__main__":
    main()
