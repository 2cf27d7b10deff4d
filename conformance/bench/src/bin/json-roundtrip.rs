//! A JSON parse and serialise round trip (serde_json): builds N records,
//! serialises them, parses the text back into typed records and into
//! `serde_json::Value` (pretty-printed and parsed again), and checks both round
//! trips give the records back exactly.
//! `json-roundtrip [RECORDS]`; prints sizes and checksums.
use p2shim_bench::{fnv1a, size_arg, Rng, FNV_START};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Record {
    id: u64,
    name: String,
    score: f64,
    tags: Vec<String>,
    active: bool,
    parent: Option<u64>,
    point: (i32, i32),
}

fn main() {
    let n = size_arg(60_000);
    let mut rng = Rng::new(7);
    let records: Vec<Record> = (0..n)
        .map(|i| Record {
            id: i,
            name: format!("item-{}-\"{}\"", i, rng.below(1000)),
            score: (rng.below(1_000_000) as f64) / 1000.0,
            tags: (0..rng.below(5))
                .map(|t| format!("t{t}\u{e9}{}", rng.below(100)))
                .collect(),
            active: rng.below(2) == 1,
            parent: if i > 0 && rng.below(3) == 0 {
                Some(rng.below(i))
            } else {
                None
            },
            point: (rng.below(2000) as i32 - 1000, rng.below(2000) as i32 - 1000),
        })
        .collect();
    let text = serde_json::to_string(&records).expect("serialise");
    let back: Vec<Record> = serde_json::from_str(&text).expect("parse typed");
    assert!(back == records, "typed round trip differs");
    let value: serde_json::Value = serde_json::from_str(&text).expect("parse value");
    let pretty = serde_json::to_string_pretty(&value).expect("serialise value");
    let again: serde_json::Value = serde_json::from_str(&pretty).expect("parse pretty");
    assert!(again == value, "value round trip differs");
    let typed: Vec<Record> = serde_json::from_value(again).expect("typed from value");
    assert!(
        typed == records,
        "typed records differ after the value round trip"
    );
    println!("json-roundtrip: {n} records");
    println!(
        "compact {} bytes, fnv {:016x}",
        text.len(),
        fnv1a(FNV_START, text.as_bytes())
    );
    println!(
        "pretty {} bytes, fnv {:016x}",
        pretty.len(),
        fnv1a(FNV_START, pretty.as_bytes())
    );
}
