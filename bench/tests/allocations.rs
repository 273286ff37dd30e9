//! No heap allocation per evaluation of W1-W7 with logging off: none
//! through the core (text is borrowed from the config), and none beyond the
//! returned `String` through the std client's `get_value` (exactly one
//! allocation for a text flag, zero for a bool flag).
//!
//! `allocation-counter` counts the allocations of the calling thread, so
//! the client's background threads do not disturb the count.
#![cfg(test)]

use configcat_bench::{DefaultValue, Op, Suite, USERS, Workload, std_client};
use configcat_core::NoLog;

fn suite() -> Option<Suite> {
    match Suite::load() {
        Ok(suite) => Some(suite),
        Err(error) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{error}");
            eprintln!("!!! allocation tests NOT run: {error}");
            None
        }
    }
}

/// The workloads of one flag per evaluation (W1-W7) with their key and default.
fn single_flag_workloads(suite: &Suite) -> Vec<(&Workload, &str, &DefaultValue)> {
    let list: Vec<_> = suite
        .workloads
        .iter()
        .filter_map(|workload| match &workload.op {
            Op::GetValue { key, default } => Some((workload, key.as_str(), default)),
            Op::GetAllValues => None,
        })
        .collect();
    assert_eq!(list.len(), 7, "W1-W7");
    list
}

#[test]
fn core_evaluations_of_w1_to_w7_do_not_allocate() {
    let Some(suite) = suite() else { return };
    for (workload, key, default) in single_flag_workloads(&suite) {
        let config = workload.config.parse().unwrap();
        for index in 0..USERS {
            let user = workload.user(index);
            let info = allocation_counter::measure(|| match default {
                DefaultValue::Bool(d) => {
                    std::hint::black_box(config.get_value(key, *d, user, &NoLog));
                }
                DefaultValue::Text(d) => {
                    std::hint::black_box(config.get_value(key, d.as_str(), user, &NoLog));
                }
                DefaultValue::Int(d) => {
                    std::hint::black_box(config.get_value(key, *d, user, &NoLog));
                }
                DefaultValue::Float(d) => {
                    std::hint::black_box(config.get_value(key, *d, user, &NoLog));
                }
            });
            assert_eq!(
                info.count_total, 0,
                "{} user {index}: the core allocated",
                workload.id
            );
        }
    }
}

#[test]
fn std_get_value_of_w1_to_w7_allocates_only_the_returned_string() {
    let Some(suite) = suite() else { return };
    for (workload, key, default) in single_flag_workloads(&suite) {
        let client = std_client(&workload.config).unwrap();
        // Warm up: per-thread state of the snapshot loads is set up on first use.
        let _ = client.get_value(key, String::new(), workload.user(0));
        let _ = client.get_value(key, false, workload.user(0));
        for index in 0..USERS {
            let user = workload.user(index);
            let (info, expected) = match default {
                DefaultValue::Bool(d) => (
                    allocation_counter::measure(|| {
                        std::hint::black_box(client.get_value(key, *d, user));
                    }),
                    0,
                ),
                DefaultValue::Text(d) => {
                    let mut value = String::new();
                    let info = allocation_counter::measure(|| {
                        value = client.get_value(key, d.clone(), user);
                    });
                    // The one allocation is the returned text (unless it is empty).
                    (info, u64::from(!value.is_empty()))
                }
                DefaultValue::Int(d) => (
                    allocation_counter::measure(|| {
                        std::hint::black_box(client.get_value(key, *d, user));
                    }),
                    0,
                ),
                DefaultValue::Float(d) => (
                    allocation_counter::measure(|| {
                        std::hint::black_box(client.get_value(key, *d, user));
                    }),
                    0,
                ),
            };
            assert_eq!(
                info.count_total, expected,
                "{} user {index}: the std client allocated {} times, expected {expected}",
                workload.id, info.count_total
            );
        }
        client.close();
    }
}

/// W8 through `for_each_value`: all 16 flags visited with nothing
/// allocated, through the core and through the std client.
#[test]
fn for_each_value_of_w8_does_not_allocate() {
    let Some(suite) = suite() else { return };
    let workload = suite.workload("W8").unwrap();
    let config = workload.config.parse().unwrap();
    let client = std_client(&workload.config).unwrap();
    client.for_each_value(workload.user(0), |_, _| {});
    for index in 0..USERS {
        let user = workload.user(index);
        let mut visited = 0;
        let core = allocation_counter::measure(|| {
            config.for_each_value(user, &NoLog, |key, value| {
                std::hint::black_box((key, value.ok()));
                visited += 1;
            });
        });
        let mut visited_std = 0;
        let std = allocation_counter::measure(|| {
            client.for_each_value(user, |key, value| {
                std::hint::black_box((key, value));
                visited_std += 1;
            });
        });
        assert_eq!((visited, visited_std), (16, 16), "W8 user {index}");
        assert_eq!(
            (core.count_total, std.count_total),
            (0, 0),
            "W8 user {index}: allocations through the core and the std client"
        );
    }
    client.close();
}
