//! Criterion benchmarks of the anchor workloads (`workloads.json`):
//!
//! - `floor/*`: bare SHA-1 / SHA-256 of exactly the inputs W3, W4, W5 and W6 hash;
//! - `core/W1`..`core/W8`: `configcat_core::Config` with the `NoLog` sink;
//! - `std/W1`..`std/W8`: `configcat_std::Client`'s public API (LocalOnly file override),
//!   W8 both as `get_all_values` and as `for_each_value`;
//! - `harness/*`: the checksum fold alone, to subtract from the above, and
//!   for text workloads the returned `String` alone (what the std client
//!   pays on top of the core's borrowed text);
//! - `P1/*`: parsing, parse + first evaluation, client build to ready; and
//!   as their floor, serde_json reading the same document into
//!   `IgnoredAny` (every byte checked, nothing kept).
//!
//! Each benchmark computes its workload's checksum over users 0..1023 and
//! compares it with `expected_check` before it times anything; one
//! iteration is one evaluation for user `iteration % 1024`, its result
//! handed to `black_box` (an opaque [`Sink`]), so the figures are the SDK's
//! alone. `harness/*` times what folding the results into the checksum
//! would add.
//!
//! `cargo bench -p configcat-bench -- --warm-up-time 1 --measurement-time 3`
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "a benchmark program: a failed setup or checksum must stop it loudly; user indices are taken modulo the 1,024 prepared users"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use configcat_bench::{
    Canon, CoreAll, DefaultValue, Op, ParseWorkload, Sink, Suite, USERS, Workload, bare_sha1,
    core_get, fold_first, fold_value_map, hashed_paths, parse_check_value, sha1_inputs,
    sha256_inputs, std_client, std_for_each, std_get,
};
use configcat_core::{Config, FlagValue, NoLog, User};
use configcat_std::{Client, FlagDefault};
use criterion::{BatchSize, Criterion};
use serde::de::IgnoredAny;
use sha2::{Digest, Sha256};

fn main() {
    let suite = Suite::load().unwrap_or_else(|error| panic!("{error}"));
    let mut c = Criterion::default().configure_from_args();
    floor(&mut c, &suite);
    for workload in &suite.workloads {
        core_workload(&mut c, workload);
    }
    for workload in &suite.workloads {
        std_workload(&mut c, workload);
    }
    for workload in &suite.workloads {
        harness(&mut c, workload);
    }
    for workload in &suite.parse {
        parse(&mut c, workload);
    }
    c.final_summary();
}

/// Checks the checksum of `step` over users 0..1023, then times it with
/// results going to `timed` (opaque, except for the fold's own bench).
fn verify_and_bench(
    c: &mut Criterion,
    name: &str,
    expected: u64,
    timed: Sink,
    mut step: impl FnMut(usize, &mut Sink),
) {
    let mut check = Sink::checksum();
    for index in 0..USERS {
        step(index, &mut check);
    }
    assert_eq!(
        format!("{:016x}", check.finish()),
        format!("{expected:016x}"),
        "{name}: checksum mismatch, nothing timed"
    );
    c.bench_function(name, |b| {
        let mut index = 0_usize;
        let mut sink = timed;
        b.iter(|| {
            step(index, &mut sink);
            index = index.wrapping_add(1);
        });
        black_box(sink.finish());
    });
}

// ---- the floor -------------------------------------------------------------------

fn floor(c: &mut Criterion, suite: &Suite) {
    let w3 = suite.workload("W3").expect("W3");
    let inputs = sha1_inputs(w3);
    assert_eq!(inputs.len(), USERS);
    c.bench_function("floor/W3 sha1(key+identifier)", |b| {
        let mut index = 0_usize;
        b.iter(|| {
            let (key, identifier) = &inputs[index % USERS];
            index = index.wrapping_add(1);
            bare_sha1(key, identifier)[0]
        });
    });

    let w4 = suite.workload("W4").expect("W4");
    let inputs = sha256_inputs(w4).expect("W4 hash inputs");
    assert!(inputs.iter().all(|hashes| hashes.len() == 10));
    sha256_floor(c, "floor/W4 ten sha256(value+salt+key)", &inputs);

    // Segments and prerequisites: their salted inputs are 70-76 bytes, two
    // SHA-256 blocks each, which is what puts W5 and W6 near their targets.
    for (id, what) in [
        ("W5", "floor/W5 sha256 of its segments (1.5 per user)"),
        ("W6", "floor/W6 sha256 of its prerequisite (1 per user)"),
    ] {
        let workload = suite.workload(id).expect(id);
        let inputs: Vec<Vec<Vec<u8>>> = hashed_paths(workload)
            .expect("hashed paths")
            .into_iter()
            .map(|path| path.inputs)
            .collect();
        sha256_floor(c, what, &inputs);
    }
}

/// Times bare SHA-256 of each user's inputs, one user per iteration.
fn sha256_floor(c: &mut Criterion, name: &str, per_user: &[Vec<Vec<u8>>]) {
    assert_eq!(per_user.len(), USERS);
    c.bench_function(name, |b| {
        let mut index = 0_usize;
        b.iter(|| {
            let inputs = &per_user[index % USERS];
            index = index.wrapping_add(1);
            let mut fold = 0_u8;
            for input in inputs {
                let digest: [u8; 32] = Sha256::digest(input).into();
                fold ^= digest[0];
            }
            fold
        });
    });
}

// ---- through the core ---------------------------------------------------------------

fn core_workload(c: &mut Criterion, workload: &Workload) {
    let config = workload.config.parse().expect("config");
    let name = format!("core/{}", workload.id);
    let expected = workload.expected_check;
    match &workload.op {
        Op::GetValue { key, default } => match default {
            DefaultValue::Bool(d) => core_get_bench(c, &name, &config, key, *d, workload),
            DefaultValue::Text(d) => core_get_bench(c, &name, &config, key, d.as_str(), workload),
            DefaultValue::Int(d) => core_get_bench(c, &name, &config, key, *d, workload),
            DefaultValue::Float(d) => core_get_bench(c, &name, &config, key, *d, workload),
        },
        Op::GetAllValues => {
            let mut all = CoreAll::new(&config);
            verify_and_bench(c, &name, expected, Sink::opaque(), |index, sink| {
                all.fold(workload.user(index), sink);
            });
        }
    }
}

fn core_get_bench<'a, T: FlagValue<'a> + Canon + Copy>(
    c: &mut Criterion,
    name: &str,
    config: &'a Config,
    key: &str,
    default: T,
    workload: &Workload,
) {
    get_bench(c, name, workload, |user, sink| {
        core_get(config, black_box(key), default, user, sink);
    });
}

/// Checks and times a `get_value` workload: `get` evaluates it for a user.
fn get_bench(
    c: &mut Criterion,
    name: &str,
    workload: &Workload,
    mut get: impl FnMut(Option<&User>, &mut Sink),
) {
    verify_and_bench(
        c,
        name,
        workload.expected_check,
        Sink::opaque(),
        |index, sink| get(workload.user(index), sink),
    );
}

// ---- through the std client ----------------------------------------------------------

fn std_workload(c: &mut Criterion, workload: &Workload) {
    let client = std_client(&workload.config).expect("client");
    let name = format!("std/{}", workload.id);
    let expected = workload.expected_check;
    match &workload.op {
        Op::GetValue { key, default } => {
            let key = key.as_str();
            match default {
                DefaultValue::Bool(d) => std_get_bench(c, &name, &client, key, d, workload),
                DefaultValue::Text(d) => std_get_bench(c, &name, &client, key, d, workload),
                DefaultValue::Int(d) => std_get_bench(c, &name, &client, key, d, workload),
                DefaultValue::Float(d) => std_get_bench(c, &name, &client, key, d, workload),
            }
        }
        Op::GetAllValues => {
            verify_and_bench(c, &name, expected, Sink::opaque(), |index, sink| {
                fold_value_map(&client.get_all_values(workload.user(index)), sink);
            });
            // The same values visited in place, without the map.
            let name = format!("{name} for_each_value");
            verify_and_bench(c, &name, expected, Sink::opaque(), |index, sink| {
                std_for_each(&client, workload.user(index), sink);
            });
        }
    }
    client.close();
}

fn std_get_bench<T: FlagDefault<Output = T> + Canon + Clone>(
    c: &mut Criterion,
    name: &str,
    client: &Client,
    key: &str,
    default: &T,
    workload: &Workload,
) {
    get_bench(c, name, workload, |user, sink| {
        std_get(client, black_box(key), default, user, sink);
    });
}

// ---- the harness alone ------------------------------------------------------------------

/// Folding precomputed results: what the loops above spend outside the SDK.
fn harness(c: &mut Criterion, workload: &Workload) {
    match &workload.op {
        Op::GetValue { key, default } => {
            // The lines the workload folds, computed once.
            let config = workload.config.parse().expect("config");
            let lines: Vec<String> = (0..USERS)
                .map(|index| {
                    let user = workload.user(index);
                    let mut line = String::new();
                    match default {
                        DefaultValue::Bool(d) => {
                            config
                                .get_value(key, *d, user, &NoLog)
                                .write_canon(&mut line);
                        }
                        DefaultValue::Text(d) => config
                            .get_value(key, d.as_str(), user, &NoLog)
                            .write_canon(&mut line),
                        DefaultValue::Int(d) => {
                            config
                                .get_value(key, *d, user, &NoLog)
                                .write_canon(&mut line);
                        }
                        DefaultValue::Float(d) => {
                            config
                                .get_value(key, *d, user, &NoLog)
                                .write_canon(&mut line);
                        }
                    }
                    line.push('\n');
                    line
                })
                .collect();
            verify_and_bench(
                c,
                &format!("harness/{} fold", workload.id),
                workload.expected_check,
                Sink::checksum(),
                |index, sink| sink.bytes(lines[index % USERS].as_bytes()),
            );
            if matches!(default, DefaultValue::Text(_)) {
                // What the std client's text result costs by itself: the
                // `String` it returns, allocated, copied and dropped.
                let texts: Vec<&str> = lines
                    .iter()
                    .map(|line| line.strip_suffix('\n').unwrap_or(line))
                    .collect();
                verify_and_bench(
                    c,
                    &format!("harness/{} returned String alone", workload.id),
                    workload.expected_check,
                    Sink::opaque(),
                    |index, sink| sink.line(String::from(texts[index % USERS])),
                );
            }
        }
        Op::GetAllValues => {
            // The std client's map, sorted and folded per iteration.
            let client = std_client(&workload.config).expect("client");
            let maps: Vec<_> = (0..USERS)
                .map(|index| client.get_all_values(workload.user(index)))
                .collect();
            client.close();
            verify_and_bench(
                c,
                &format!("harness/{} fold of the std map", workload.id),
                workload.expected_check,
                Sink::checksum(),
                |index, sink| fold_value_map(&maps[index % USERS], sink),
            );
        }
    }
}

// ---- P1 ------------------------------------------------------------------------------------

fn parse(c: &mut Criterion, workload: &ParseWorkload) {
    let json = workload.config.json.as_slice();
    assert_eq!(
        format!("{:016x}", parse_check_value(workload).expect("parse")),
        format!("{:016x}", workload.expected_check),
        "{}: checksum mismatch, nothing timed",
        workload.id
    );

    let mut group = c.benchmark_group("P1");
    group.sample_size(30);
    // Each parsed config is dropped outside the timing, right after its
    // parse (one per batch): kept for a whole batch instead, megabytes of
    // configs would make every batch fault in fresh pages, which is not
    // what a parse costs in a running client.
    group.bench_function(format!("{} parse", workload.id), |b| {
        b.iter_batched(
            || (),
            |()| Config::parse(black_box(json)).expect("parse"),
            BatchSize::PerIteration,
        );
    });
    // What a widely used reader needs to check the document, building
    // nothing: the part of a parse no data structure can save.
    serde_json::from_slice::<IgnoredAny>(json).expect("serde_json reads the document");
    group.bench_function(
        format!("{} floor: serde_json IgnoredAny", workload.id),
        |b| {
            b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(json)).expect("read"));
        },
    );
    group.bench_function(format!("{} parse + first evaluation", workload.id), |b| {
        b.iter_batched(
            || (),
            |()| {
                let config = Config::parse(black_box(json)).expect("parse");
                let mut sink = Sink::opaque();
                fold_first(&config, workload, Some(&workload.user), &mut sink);
                config
            },
            BatchSize::PerIteration,
        );
    });
    if workload.config.json.len() > 1_000_000 {
        group.bench_function(format!("{} client build to ready", workload.id), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    let client = std_client(&workload.config).expect("client");
                    total += start.elapsed();
                    client.close();
                }
                total
            });
        });
    }
    group.finish();
}
