//! Readers on several threads while the server changes the config on every
//! poll: every read sees one complete config version, never a mix.
//!
//! No logger is installed in this binary, so the hot loop does not build
//! evaluation logs.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::{Client, OwnedValue};

use common::{WAIT, config_with, options, sdk_key};

/// Config version `n`: every setting carries `n`, so a mix of versions shows.
fn version(base_url: &str, n: i64) -> String {
    config_with(
        base_url,
        &format!(
            r#""a":{{"t":2,"v":{{"i":{n}}},"i":"a{n}"}},
                "b":{{"t":1,"v":{{"s":"{n}"}},"i":"b{n}"}},
                "c":{{"t":2,"v":{{"i":{n}}},"i":"c{n}"}},
                "d":{{"t":0,"v":{{"b":{}}},"i":"d{n}"}}"#,
            n % 2 == 0
        ),
    )
}

/// The version of a complete read, or a panic naming the mix.
fn version_of(values: &std::collections::BTreeMap<String, OwnedValue>) -> i64 {
    let OwnedValue::Int(a) = values["a"] else {
        panic!("{values:?}")
    };
    assert_eq!(
        values["b"],
        OwnedValue::Text(a.to_string().into()),
        "{values:?}"
    );
    assert_eq!(values["c"], OwnedValue::Int(a), "{values:?}");
    assert_eq!(values["d"], OwnedValue::Bool(a % 2 == 0), "{values:?}");
    a
}

#[test]
fn readers_always_see_one_complete_config_version() {
    const VERSIONS: i64 = 60;
    const READERS: usize = 4;
    let key = sdk_key("concurrency_versions");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&version(&cdn.base_url(), 1));
    let client = Client::get(
        &key,
        options(&cdn).with_auto_polling(Duration::from_millis(2), Duration::from_secs(5)),
    )
    .unwrap();
    assert_eq!(client.get_value("a", 0_i64, None), 1);

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|reader| {
            let client = client.clone();
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut seen = BTreeSet::new();
                let mut last = 0;
                let mut reads = 0_u64;
                while !done.load(Ordering::Acquire) {
                    // A whole-config read must come from one snapshot.
                    let n = version_of(&client.get_all_values(None));
                    // Details of one setting carry the matching variation id.
                    let details = client.get_value_details("b", String::new(), None);
                    let b: i64 = details.value.parse().unwrap();
                    assert_eq!(
                        details.variation_id.as_deref(),
                        Some(format!("b{b}").as_str())
                    );
                    // Snapshots only move forward.
                    assert!(n >= last, "reader {reader}: version {n} after {last}");
                    assert!(b >= n, "reader {reader}: version {b} after {n}");
                    let all = client.get_all_value_details(None);
                    let ids: BTreeSet<String> = all
                        .iter()
                        .map(|d| d.variation_id.clone().unwrap()[1..].to_owned())
                        .collect();
                    assert_eq!(ids.len(), 1, "reader {reader}: mixed {ids:?}");
                    last = b;
                    seen.insert(n);
                    reads += 1;
                }
                (seen, reads)
            })
        })
        .collect();

    // Change the config as soon as the client has asked for the previous one:
    // a new version every poll, a few milliseconds apart.
    for n in 2..=VERSIONS {
        let count = cdn.request_count();
        assert!(cdn.wait_for_requests(count + 1, WAIT), "polling goes on");
        cdn.set_config(&version(&cdn.base_url(), n));
    }
    // Wait until the last version is served to readers.
    let count = cdn.request_count();
    assert!(cdn.wait_for_requests(count + 2, WAIT));
    done.store(true, Ordering::Release);

    let mut all_seen = BTreeSet::new();
    let mut total_reads = 0;
    for reader in readers {
        let (seen, reads) = reader.join().unwrap();
        assert!(reads > 0);
        total_reads += reads;
        all_seen.extend(seen);
    }
    assert_eq!(client.get_value("a", 0_i64, None), VERSIONS);
    assert!(
        all_seen.len() > 10,
        "readers saw {} versions in {total_reads} reads",
        all_seen.len()
    );
    client.close();
}
