//! A WASIp2 command for packaging/test-dist.sh: prints the preopened folders
//! in the order the host gives them and, for each, its entries (sorted) with
//! the contents of its files. A wrapper that loses, renames or reorders a
//! folder prints something else than the native run.

use wasi::filesystem::types::{DescriptorFlags, DescriptorType, OpenFlags, PathFlags};

fn main() {
    let dirs = wasi::filesystem::preopens::get_directories();
    println!(
        "preopens: {:?}",
        dirs.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>()
    );
    for (d, name) in &dirs {
        let mut entries = Vec::new();
        let stream = d.read_directory().expect("read-directory");
        while let Some(e) = stream.read_directory_entry().expect("read-directory-entry") {
            entries.push((e.name, e.type_));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (entry, ty) in entries {
            if ty != DescriptorType::RegularFile {
                println!("{name}: {entry} ({ty:?})");
                continue;
            }
            let f = d
                .open_at(
                    PathFlags::empty(),
                    &entry,
                    OpenFlags::empty(),
                    DescriptorFlags::READ,
                )
                .expect("open-at");
            let (bytes, _) = f.read(4096, 0).expect("read");
            println!("{name}: {entry} = {:?}", String::from_utf8_lossy(&bytes));
        }
    }
}
