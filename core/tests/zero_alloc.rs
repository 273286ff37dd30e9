//! With logging off, evaluating a flag must not touch the heap.
//!
//! `allocation-counter` installs a counting `#[global_allocator]` around
//! `std::alloc::System` in this test binary; its counters are per thread, so
//! the test harness's other threads cannot disturb a measurement of code that
//! runs on the test's own thread. (The allocator comes from that crate because
//! the workspace forbids `unsafe_code`, which a `GlobalAlloc` impl needs.)

// Marks the whole crate as test code, so that the workspace clippy.toml
// allowances for tests (unwrap, expect, panic, indexing) cover the helpers too.
#![cfg(test)]

mod common;

use core::fmt;

use common::{hashed_affix, js, parse, sha256_hex};
use configcat_core::{Config, EventId, LogLevel, LogSink, NoLog, User, UserValue};

/// Runs `f` and returns its result with the number of heap allocations
/// (including reallocations) it made on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let mut result = None;
    let info = allocation_counter::measure(|| result = Some(f()));
    (result.unwrap(), info.count_total)
}

/// Wants everything, including the evaluation log, and throws it away.
struct Everything;

impl LogSink for Everything {
    fn enabled(&self, _level: LogLevel) -> bool {
        true
    }
    fn event(&self, _level: LogLevel, _id: EventId, _message: fmt::Arguments<'_>) {}
}

/// Wants warnings and errors but not the evaluation log; throws them away.
struct WarningsOnly;

impl LogSink for WarningsOnly {
    fn enabled(&self, level: LogLevel) -> bool {
        level <= LogLevel::Warning
    }
    fn event(&self, _level: LogLevel, _id: EventId, _message: fmt::Arguments<'_>) {}
}

const CONFIG: &str = r#"{"p":{"s":"salt"},
  "s":[{"n":"Beta","r":[{"a":"Email","c":32,"l":["@example.com"]}]}],
  "f":{
    "plainBool":{"t":0,"v":{"b":true}},
    "plainText":{"t":1,"v":{"s":"hello"},"i":"v-hello"},
    "rule":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"u":{"a":"Email","c":2,"l":["@nowhere","@example"]}}],"s":{"v":{"s":"targeted"},"i":"v-targeted"}}]},
    "percentage":{"t":1,"v":{"s":"default"},
      "p":[{"p":50,"v":{"s":"A"}},{"p":50,"v":{"s":"B"}}]},
    "percentageByAge":{"t":2,"a":"Age","v":{"i":0},
      "p":[{"p":50,"v":{"i":1}},{"p":50,"v":{"i":2}}]},
    "confidential":{"t":0,"v":{"b":false},
      "r":[{"c":[{"u":{"a":"Email","c":20,"s":HASH}}],"s":{"v":{"b":true}}}]},
    "confidentialStarts":{"t":0,"v":{"b":false},
      "r":[{"c":[{"u":{"a":"Email","c":22,"l":[AFFIX]}}],"s":{"v":{"b":true}}}]},
    "semver":{"t":1,"v":{"s":"old"},
      "r":[{"c":[{"u":{"a":"Version","c":9,"s":"2.0.0"}}],"s":{"v":{"s":"new"}}}]},
    "number":{"t":3,"v":{"d":0.5},
      "r":[{"c":[{"u":{"a":"Age","c":14,"d":18}}],"s":{"v":{"d":1.5}}}]},
    "date":{"t":0,"v":{"b":false},
      "r":[{"c":[{"u":{"a":"Joined","c":19,"d":1680307200}}],"s":{"v":{"b":true}}}]},
    "textOfNumber":{"t":0,"v":{"b":false},
      "r":[{"c":[{"u":{"a":"Age","c":28,"s":"42"}}],"s":{"v":{"b":true}}}]},
    "array":{"t":0,"v":{"b":false},
      "r":[{"c":[{"u":{"a":"Roles","c":34,"l":["admin"]}}],"s":{"v":{"b":true}}}]},
    "segment":{"t":1,"v":{"s":"out"},
      "r":[{"c":[{"s":{"s":0,"c":0}}],"s":{"v":{"s":"in"}}}]},
    "prerequisite":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"p":{"f":"segment","c":0,"v":{"s":"in"}}},
                 {"u":{"a":"Version","c":6,"s":"3.0.0-rc.1"}}],"s":{"v":{"s":"matched"}}}]}
  }}"#;

fn config() -> Config {
    parse(
        &CONFIG
            .replace(
                "HASH",
                &js(&sha256_hex(b"jane@example.com", "salt", "confidential")),
            )
            .replace(
                "AFFIX",
                &js(&hashed_affix("jane", "salt", "confidentialStarts")),
            ),
    )
}

fn jane() -> User {
    User::new("435170f4-8a8b-4b67-a723-505ac7cdea92")
        .with_email("jane@example.com")
        .with_country("Hungary")
        .with_custom("Version", "2.1.0")
        .with_custom("Age", 42)
        .with_custom("Joined", UserValue::DateTime(1_700_000_000.0))
        .with_custom(
            "Roles",
            UserValue::StringList(vec!["user".into(), "admin".into()]),
        )
}

#[test]
fn evaluation_with_logging_off_does_not_allocate() {
    let config = config();
    let user = jane();
    let user = &user;

    let (value, count) = allocations(|| config.get_value("plainBool", false, None, &NoLog));
    assert!(value);
    assert_eq!(count, 0, "plain bool flag");

    let (value, count) = allocations(|| config.get_value("plainText", "", Some(user), &NoLog));
    assert_eq!(value, "hello");
    assert_eq!(count, 0, "plain text flag returning &str");

    let (details, count) =
        allocations(|| config.get_value_details("plainText", "", Some(user), &NoLog));
    assert_eq!(details.value, "hello");
    assert_eq!(details.variation_id.as_deref(), Some("v-hello"));
    assert_eq!(count, 0, "plain text flag, details");

    let (details, count) = allocations(|| config.get_value_details("rule", "", Some(user), &NoLog));
    assert_eq!(details.value, "targeted");
    assert_eq!(details.matched_targeting_rule_index, Some(0));
    assert_eq!(count, 0, "targeting rule with a text comparator");

    let (details, count) =
        allocations(|| config.get_value_details("percentage", "", Some(user), &NoLog));
    assert!(details.value == "A" || details.value == "B");
    assert!(details.matched_percentage_option.is_some());
    assert_eq!(count, 0, "% options (SHA-1)");

    let (value, count) =
        allocations(|| config.get_value("percentageByAge", 0_i64, Some(user), &NoLog));
    assert!(value == 1 || value == 2);
    assert_eq!(count, 0, "% options on a number attribute");

    let (value, count) =
        allocations(|| config.get_value("confidential", false, Some(user), &NoLog));
    assert!(value);
    assert_eq!(count, 0, "confidential EQUALS (SHA-256)");

    let (value, count) =
        allocations(|| config.get_value("confidentialStarts", false, Some(user), &NoLog));
    assert!(value);
    assert_eq!(count, 0, "confidential STARTS WITH (SHA-256)");

    let (value, count) = allocations(|| config.get_value("semver", "", Some(user), &NoLog));
    assert_eq!(value, "new");
    assert_eq!(count, 0, "semver rule");

    let (value, count) = allocations(|| config.get_value("number", 0.0, Some(user), &NoLog));
    assert!((value - 1.5).abs() < f64::EPSILON);
    assert_eq!(count, 0, "number rule");

    let (value, count) = allocations(|| config.get_value("date", false, Some(user), &NoLog));
    assert!(value);
    assert_eq!(count, 0, "date rule");

    let (value, count) =
        allocations(|| config.get_value("textOfNumber", false, Some(user), &NoLog));
    assert!(value);
    assert_eq!(count, 0, "text comparator on a number attribute");

    let (value, count) = allocations(|| config.get_value("array", false, Some(user), &NoLog));
    assert!(value);
    assert_eq!(count, 0, "array rule on a string list");

    let (details, count) =
        allocations(|| config.get_value_details("segment", "", Some(user), &NoLog));
    assert_eq!(details.value, "in");
    assert_eq!(count, 0, "segment condition");

    let (details, count) =
        allocations(|| config.get_value_details("prerequisite", "", Some(user), &NoLog));
    assert_eq!(details.value, "matched");
    assert_eq!(count, 0, "prerequisite flag condition");

    // No user at all: targeting is skipped, still without the heap.
    let (value, count) = allocations(|| config.get_value("segment", "", None, &NoLog));
    assert_eq!(value, "out");
    assert_eq!(count, 0, "no user");
}

#[test]
fn warnings_enabled_but_unused_do_not_allocate() {
    let config = config();
    let user = jane();
    // The text comparator on a number warns 3005; the sink drops it unformatted.
    let (value, count) =
        allocations(|| config.get_value("textOfNumber", false, Some(&user), &WarningsOnly));
    assert!(value);
    assert_eq!(count, 0);
    let (value, count) =
        allocations(|| config.get_value("prerequisite", "", Some(&user), &WarningsOnly));
    assert_eq!(value, "matched");
    assert_eq!(count, 0);
}

#[test]
fn the_evaluation_log_does_allocate() {
    let config = config();
    let user = jane();
    // The counter works: building the evaluation log (Info) needs the heap.
    let (value, count) = allocations(|| config.get_value("rule", "", Some(&user), &Everything));
    assert_eq!(value, "targeted");
    assert!(
        count > 0,
        "the evaluation log was built without allocating?"
    );
    let (value, count) = allocations(|| config.get_value("plainBool", false, None, &Everything));
    assert!(value);
    assert!(count > 0);
    // And so does an obviously allocating closure.
    let (text, count) = allocations(|| "x".repeat(3));
    assert_eq!(text, "xxx");
    assert_eq!(count, 1);
}
