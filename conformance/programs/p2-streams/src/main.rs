//! Output-stream budgets, chosen by the first argument: what `check-write`
//! grants on stdio and file streams, `write-zeroes` within it and beyond it
//! (wasmtime traps: "cannot write more zeroes than `check_write` allows"; a
//! shim that ignored the budget filled a disk with `write-zeroes(u64::MAX)`),
//! and `blocking-write-and-flush` / `blocking-write-zeroes-and-flush` with
//! 4096 bytes (allowed) and 4097 (a trap in wasmtime). Files written are
//! left for `../run.sh` to compare. Compared with native wasmtime.

use wasi::filesystem::types::{Descriptor, DescriptorFlags as F, OpenFlags as O, PathFlags as P};

fn file(d: &Descriptor, name: &str) -> Descriptor {
    d.open_at(P::empty(), name, O::CREATE, F::READ | F::WRITE)
        .unwrap()
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let dirs = wasi::filesystem::preopens::get_directories();
    let (d, _) = &dirs[0];
    let out = wasi::cli::stdout::get_stdout();
    let err = wasi::cli::stderr::get_stderr();
    println!("case {case}");
    match case.as_str() {
        "budget" => {
            println!("stdout check-write {:?}", out.check_write());
            println!("stderr check-write {:?}", err.check_write());
            let f = file(d, "w.bin");
            let w = f.write_via_stream(0).unwrap();
            let budget = w.check_write().unwrap();
            println!("file check-write {budget}");
            println!("write-zeroes budget {:?}", w.write_zeroes(budget));
            println!("flush {:?}", w.blocking_flush());
            println!(
                "blocking zeroes 4096 {:?}",
                w.blocking_write_zeroes_and_flush(4096)
            );
            println!(
                "blocking write 4096 {:?}",
                w.blocking_write_and_flush(&[b'x'; 4096])
            );
            let a = f.append_via_stream().unwrap();
            println!("append check-write {:?}", a.check_write());
            println!("append zeroes 10 {:?}", a.write_zeroes(10));
            println!("append flush {:?}", a.blocking_flush());
            drop((w, a));
            println!("size {:?}", f.stat().map(|s| s.size));
            println!("stdout zeroes 0 {:?}", out.write_zeroes(0));
            println!(
                "stdout blocking zeroes 0 {:?}",
                out.blocking_write_zeroes_and_flush(0)
            );
            println!(
                "stdout blocking write 4096 {:?}",
                out.blocking_write_and_flush(&[b'.'; 4096])
            );
            println!();
        }
        "zeroes-over-budget-file" => {
            let f = file(d, "z.bin");
            let w = f.write_via_stream(0).unwrap();
            let budget = w.check_write().unwrap();
            println!("write-zeroes budget+1");
            let r = w.write_zeroes(budget + 1);
            println!("not reached {r:?}");
        }
        "zeroes-over-budget-stdout" => {
            let budget = out.check_write().unwrap();
            println!("write-zeroes budget+1");
            let r = out.write_zeroes(budget + 1);
            println!("not reached {r:?}");
        }
        "zeroes-max-file" => {
            let f = file(d, "z.bin");
            let w = f.write_via_stream(0).unwrap();
            println!("write-zeroes u64::MAX");
            let r = w.write_zeroes(u64::MAX);
            println!("not reached {r:?}");
        }
        "blocking-write-4097" => {
            println!("blocking-write-and-flush 4097");
            let r = out.blocking_write_and_flush(&[b'x'; 4097]);
            println!("not reached {r:?}");
        }
        "blocking-zeroes-4097" => {
            let f = file(d, "z.bin");
            let w = f.write_via_stream(0).unwrap();
            println!("blocking-write-zeroes-and-flush 4097");
            let r = w.blocking_write_zeroes_and_flush(4097);
            println!("not reached {r:?}");
        }
        _ => panic!("unknown case {case:?}"),
    }
}
