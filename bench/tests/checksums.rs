//! Every anchor workload's checksum, through the core and through the std
//! client, without timing: CI checks the benchmark harness (and the
//! evaluator) in seconds.
#![cfg(test)]

use configcat_bench::{
    Op, Sink, Suite, USERS, core_check, fold_first, hashed_paths, parse_check_value, sha1_inputs,
    sha256_inputs, std_check, std_client, std_for_each,
};

/// The suite, or `None` (said loudly) when the workload directory is
/// missing outside CI; under `CI=true` a missing directory fails.
fn suite() -> Option<Suite> {
    match Suite::load() {
        Ok(suite) => Some(suite),
        Err(error) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{error}");
            eprintln!("!!! benchmark workloads NOT checked: {error}");
            None
        }
    }
}

#[test]
fn every_workload_checksum_matches_through_the_core() {
    let Some(suite) = suite() else { return };
    assert_eq!(suite.workloads.len(), 8, "W1-W8");
    for workload in &suite.workloads {
        let check = core_check(workload).unwrap();
        assert_eq!(
            format!("{check:016x}"),
            format!("{:016x}", workload.expected_check),
            "{} ({}) through the core",
            workload.id,
            workload.title
        );
    }
}

#[test]
fn every_workload_checksum_matches_through_the_std_client() {
    let Some(suite) = suite() else { return };
    for workload in &suite.workloads {
        let client = std_client(&workload.config).unwrap();
        let check = std_check(workload, &client);
        client.close();
        assert_eq!(
            format!("{check:016x}"),
            format!("{:016x}", workload.expected_check),
            "{} ({}) through the std client",
            workload.id,
            workload.title
        );
    }
}

#[test]
fn w8_checksum_matches_through_the_std_for_each_value() {
    let Some(suite) = suite() else { return };
    let workload = suite.workload("W8").unwrap();
    let client = std_client(&workload.config).unwrap();
    let mut sink = Sink::checksum();
    for index in 0..USERS {
        std_for_each(&client, workload.user(index), &mut sink);
    }
    client.close();
    assert_eq!(
        format!("{:016x}", sink.finish()),
        format!("{:016x}", workload.expected_check)
    );
}

#[test]
fn parse_workload_checksums_match() {
    let Some(suite) = suite() else { return };
    assert_eq!(suite.parse.len(), 2, "P1-comparators and P1-large");
    for workload in &suite.parse {
        assert_eq!(
            format!("{:016x}", parse_check_value(workload).unwrap()),
            format!("{:016x}", workload.expected_check),
            "{}",
            workload.id
        );
        // The first evaluation alone is what the parse benchmark times.
        let config = workload.config.parse().unwrap();
        let mut sink = Sink::checksum();
        fold_first(&config, workload, Some(&workload.user), &mut sink);
        assert_ne!(sink.finish(), Sink::checksum().finish());
    }
}

#[test]
fn floor_inputs_are_the_hashes_the_rules_demand() {
    let Some(suite) = suite() else { return };
    let w3 = suite.workload("W3").unwrap();
    let inputs = sha1_inputs(w3);
    assert_eq!(inputs.len(), USERS);
    let w4 = suite.workload("W4").unwrap();
    let inputs = sha256_inputs(w4).unwrap();
    assert_eq!(inputs.len(), USERS);
    for (index, hashes) in inputs.iter().enumerate() {
        assert_eq!(hashes.len(), 10, "W4 user {index} needs ten SHA-256 hashes");
    }
    assert!(matches!(w4.op, Op::GetValue { .. }));
}

/// The walk behind the W5 and W6 floors reaches every user's value (so its
/// hashes are the ones the rules decide on), and hashes what it should:
/// W6 one suffix per user; W5 the Developers segment for everyone and Beta
/// Users only for those in Developers.
#[test]
fn hashed_paths_reach_the_workload_values() {
    let Some(suite) = suite() else { return };
    for (id, least, most) in [("W5", 1, 2), ("W6", 1, 1)] {
        let workload = suite.workload(id).unwrap();
        let paths = hashed_paths(workload).unwrap();
        assert_eq!(paths.len(), USERS);
        let mut sink = Sink::checksum();
        for path in &paths {
            sink.line(path.value.as_str());
            assert!((least..=most).contains(&path.inputs.len()), "{id}");
        }
        assert_eq!(sink.finish(), workload.expected_check, "{id}");
    }
    let w5 = hashed_paths(suite.workload("W5").unwrap()).unwrap();
    let both = w5.iter().filter(|path| path.inputs.len() == 2).count();
    assert_eq!(both, USERS / 2, "half of W5's users are developers");
    assert!(
        w5.iter()
            .all(|path| path.inputs[0].ends_with(b"Developers"))
    );
}
