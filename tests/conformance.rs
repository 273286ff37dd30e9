//! ConfigCat's cross-SDK conformance suites (`../shared/conformance`), run
//! against `configcat-core`: the test matrices, the evaluation-log suites and
//! the other fixtures. Each test prints its case counts.

use std::collections::BTreeMap;
use std::path::Path;

use configcat_conformance::{
    CapturingSink, Ratchet, evaluate_with_json_default, read_json, same_typed_json, user_from_json,
    value_to_json,
};
use configcat_core::{
    Config, LogLevel, NoLog, OverrideBehaviour, OwnedValue, SettingType, User, Value,
};
use serde_json::Value as Json;

#[expect(
    clippy::panic,
    reason = "a config of the data set that fails to load must stop the suite"
)]
fn load_config(path: &Path) -> Config {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Config::parse_overrides(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn finish(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

const NULL_MARKER: &str = "##null##";

#[test]
fn test_matrices() {
    let Some(dir) = configcat_conformance::data_dir() else {
        return;
    };
    let manifest = read_json(&dir.join("manifest.json"));
    let ratchet = Ratchet::load();
    let mut problems = Vec::new();
    let mut total = 0;
    let matrices = manifest["matrices"]
        .as_array()
        .expect("manifest lists matrices");
    for matrix in matrices {
        let name = matrix["name"].as_str().expect("matrix name");
        let config = load_config(&dir.join(matrix["config"].as_str().expect("matrix config")));
        let csv_path = dir.join(matrix["csv"].as_str().expect("matrix csv"));
        let csv = std::fs::read_to_string(&csv_path)
            .unwrap_or_else(|e| panic!("{}: {e}", csv_path.display()));
        let variation_ids = matrix["kind"] == "variation_id";
        let mut lines = csv
            .split(['\n', '\r'])
            .filter(|line| !line.trim().is_empty());
        let header: Vec<&str> = lines.next().expect("header").split(';').collect();
        let custom_name = header[3];
        let mut ids = Vec::new();
        let mut failures = BTreeMap::new();
        for (row_number, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(';').collect();
            let user = (cells[0] != NULL_MARKER).then(|| {
                let present = |cell: &&&str| !cell.is_empty() && **cell != NULL_MARKER;
                let mut user = User::new(cells[0]);
                if let Some(email) = cells.get(1).filter(present) {
                    user = user.with_email(*email);
                }
                if let Some(country) = cells.get(2).filter(present) {
                    user = user.with_country(*country);
                }
                if let Some(custom) = cells.get(3).filter(present) {
                    user = user.with_custom(custom_name, *custom);
                }
                user
            });
            for (column, key) in header.iter().enumerate().skip(4) {
                let expected = cells.get(column).copied().unwrap_or_default();
                let id = format!("matrix/{name}/row{}/{key}", row_number + 2);
                let details = config.evaluate(key, user.as_ref(), &NoLog);
                let ok = if variation_ids {
                    details.variation_id == Some(expected)
                } else {
                    match details.value {
                        Some(Value::Bool(v)) => {
                            expected.eq_ignore_ascii_case(if v { "true" } else { "false" })
                        }
                        Some(Value::Text(v)) => v == expected,
                        Some(Value::Int(v)) => expected.parse::<i64>() == Ok(v),
                        Some(Value::Float(v)) => expected.parse::<f64>() == Ok(v),
                        None => false,
                    }
                };
                if !ok {
                    failures.insert(
                        id.clone(),
                        format!(
                            "expected {expected:?}, got value {:?} variation {:?} error {:?}",
                            details.value, details.variation_id, details.error
                        ),
                    );
                }
                ids.push(id);
            }
        }
        total += ids.len();
        problems.extend(ratchet.check(&format!("matrix {name}"), &ids, &failures));
    }
    configcat_conformance::report(&format!(
        "conformance matrices: {} runs, {total} cases",
        matrices.len()
    ));
    assert_eq!(
        total as u64,
        manifest["totals"]["matrix_cases"]
            .as_u64()
            .unwrap_or_default(),
        "case count"
    );
    finish(problems);
}

#[test]
fn evaluation_log_suites() {
    let Some(dir) = configcat_conformance::data_dir() else {
        return;
    };
    let manifest = read_json(&dir.join("manifest.json"));
    let ratchet = Ratchet::load();
    let mut problems = Vec::new();
    let mut total = 0;
    let suites = manifest["evaluation_log"]["suites"]
        .as_array()
        .expect("manifest lists log suites");
    for suite_entry in suites {
        let name = suite_entry["name"].as_str().expect("suite name");
        let suite_file = dir.join(suite_entry["file"].as_str().expect("suite file"));
        let suite = read_json(&suite_file);
        let config = match (suite["config"].as_str(), suite["jsonOverride"].as_str()) {
            (Some(config), _) => load_config(&dir.join("configs").join(config)),
            (None, Some(file)) => load_config(&dir.join("evaluationlog/_overrides").join(file)),
            _ => panic!("{name}: no config"),
        };
        let mut ids = Vec::new();
        let mut failures = BTreeMap::new();
        for test in suite["tests"].as_array().expect("tests") {
            let key = test["key"].as_str().expect("key");
            let expected_file = test["expectedLog"].as_str().expect("expectedLog");
            let id = format!("log/{name}/{expected_file}");
            let user = user_from_json(test.get("user").unwrap_or(&Json::Null)).expect("user");
            let sink = CapturingSink::default();
            let result = evaluate_with_json_default(
                &config,
                key,
                &test["defaultValue"],
                user.as_ref(),
                &sink,
            );
            let log: String = sink
                .take()
                .iter()
                .map(|record| format!("{record}\n"))
                .collect();
            let expected_path = dir.join("evaluationlog").join(name).join(expected_file);
            let expected = std::fs::read_to_string(&expected_path).expect("expected log");
            if !same_typed_json(&test["returnValue"], &result.value) {
                failures.insert(
                    id.clone(),
                    format!(
                        "value: expected {}, got {}",
                        test["returnValue"], result.value
                    ),
                );
            } else if log != expected {
                failures.insert(
                    id.clone(),
                    format!("log differs:\n--- expected\n{expected}--- actual\n{log}---"),
                );
            }
            ids.push(id);
        }
        total += ids.len();
        problems.extend(ratchet.check(&format!("log {name}"), &ids, &failures));
    }
    configcat_conformance::report(&format!(
        "conformance evaluation-log: {} suites, {total} cases",
        suites.len()
    ));
    assert_eq!(
        total as u64,
        manifest["totals"]["evaluation_log_cases"]
            .as_u64()
            .unwrap_or_default()
    );
    finish(problems);
}

/// A flag override map entry of the fixtures: `{"type": ..., "value": ...}`;
/// `None` for the types a typed map cannot hold (`unsupported`, `null`).
fn override_value(entry: &Json) -> Option<OwnedValue> {
    let value = &entry["value"];
    match entry["type"].as_str()? {
        "bool" => value.as_bool().map(OwnedValue::Bool),
        "int" => value.as_i64().map(OwnedValue::Int),
        "double" => value.as_f64().map(OwnedValue::Float),
        "string" => value.as_str().map(OwnedValue::from),
        _ => None,
    }
}

#[expect(
    clippy::panic,
    reason = "an unknown mode means the case file changed: stop loudly"
)]
fn behaviour(mode: &str) -> Option<OverrideBehaviour> {
    match mode {
        "local_only" => Some(OverrideBehaviour::LocalOnly),
        "local_over_remote" => Some(OverrideBehaviour::LocalOverRemote),
        "remote_over_local" => Some(OverrideBehaviour::RemoteOverLocal),
        "remote_only" => None,
        other => panic!("unknown mode {other}"),
    }
}

#[test]
fn other_fixtures() {
    let Some(dir) = configcat_conformance::data_dir() else {
        return;
    };
    let manifest = read_json(&dir.join("manifest.json"));
    let ratchet = Ratchet::load();
    let mut problems = Vec::new();
    let mut total = 0;
    let mut optional_skipped = 0;
    let fixtures = manifest["other"]
        .as_array()
        .expect("manifest lists fixtures");
    for fixture_entry in fixtures {
        let name = fixture_entry["name"].as_str().expect("fixture name");
        let fixture = read_json(&dir.join(fixture_entry["file"].as_str().expect("fixture file")));
        let mut ids = Vec::new();
        let mut failures = BTreeMap::new();
        for (index, case) in fixture["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .enumerate()
        {
            let field = |member: &str| {
                case.get(member)
                    .or_else(|| fixture.get(member))
                    .unwrap_or(&Json::Null)
            };
            let id = format!(
                "other/{name}/{index}/{}",
                case["key"].as_str().unwrap_or_default()
            );
            let override_map = case.get("override_map");
            if case["optional"] == true
                || override_map
                    .and_then(Json::as_object)
                    .is_some_and(|map| map.values().any(|e| override_value(e).is_none()))
            {
                optional_skipped += 1;
                continue;
            }
            let config = if let Some(path) = field("config").as_str() {
                load_config(&dir.join(path))
            } else {
                let remote =
                    load_config(&dir.join(field("remote_config").as_str().expect("remote_config")));
                let local = match (override_map, field("local_override_file").as_str()) {
                    (Some(map), _) => Some(Config::from_values(
                        map.as_object()
                            .expect("override map")
                            .iter()
                            .map(|(key, entry)| {
                                (key.clone(), override_value(entry).expect("typed override"))
                            }),
                    )),
                    (None, Some(path)) => Some(load_config(&dir.join(path))),
                    (None, None) => None,
                };
                match (behaviour(field("mode").as_str().expect("mode")), local) {
                    (Some(behaviour), Some(local)) => Config::merge(&remote, &local, behaviour),
                    _ => remote,
                }
            };
            let user = user_from_json(field("user")).expect("user");
            let key = case["key"].as_str().expect("key");
            let sink = CapturingSink::default();
            let result =
                evaluate_with_json_default(&config, key, field("default"), user.as_ref(), &sink);
            let records = sink.take();
            let mut wrong = Vec::new();
            if let Some(expected) = case.get("expected_value") {
                if !same_typed_json(expected, &result.value) {
                    wrong.push(format!("value: expected {expected}, got {}", result.value));
                }
            }
            let errors = records
                .iter()
                .filter(|r| r.level == LogLevel::Error)
                .count();
            if case["expected_error"] == true {
                if result.error.is_none() {
                    wrong.push("expected an error in the details".to_owned());
                }
                if errors != 1 {
                    wrong.push(format!("expected exactly one ERROR record, got {errors}"));
                }
            } else if let Some(error) = &result.error {
                wrong.push(format!("unexpected error {error}"));
            }
            for member in ["expected_error_contains", "cycle"] {
                if let Some(text) = case.get(member).and_then(Json::as_str) {
                    if !result.error.as_deref().unwrap_or_default().contains(text) {
                        wrong.push(format!("error {:?} lacks {text:?}", result.error));
                    }
                }
            }
            for (member, actual) in [
                (
                    "expected_matched_targeting_rule",
                    result.matched_targeting_rule,
                ),
                (
                    "expected_matched_percentage_option",
                    result.matched_percentage_option,
                ),
            ] {
                if let Some(expected) = case.get(member).and_then(Json::as_bool) {
                    if expected != actual {
                        wrong.push(format!("{member}: expected {expected}, got {actual}"));
                    }
                }
            }
            if let Some(expected) = case.get("expected_warnings").and_then(Json::as_array) {
                let warnings: Vec<(u64, &str)> = records
                    .iter()
                    .filter(|r| r.level == LogLevel::Warning)
                    .map(|r| (u64::from(r.id.code()), r.message.as_str()))
                    .collect();
                let expected: Vec<(u64, &str)> = expected
                    .iter()
                    .map(|w| {
                        (
                            w["event_id"].as_u64().unwrap_or_default(),
                            w["message"].as_str().unwrap_or_default(),
                        )
                    })
                    .collect();
                if warnings != expected {
                    wrong.push(format!("warnings: expected {expected:?}, got {warnings:?}"));
                }
            }
            if !wrong.is_empty() {
                failures.insert(id.clone(), wrong.join("; "));
            }
            ids.push(id);
        }
        total += ids.len();
        problems.extend(ratchet.check(&format!("other {name}"), &ids, &failures));
    }
    configcat_conformance::report(&format!(
        "conformance other fixtures: {} files, {total} cases run, {optional_skipped} optional skipped",
        fixtures.len()
    ));
    let expected_total = manifest["totals"]["other_cases"]
        .as_u64()
        .unwrap_or_default()
        - manifest["totals"]["other_optional_cases"]
            .as_u64()
            .unwrap_or_default();
    assert_eq!(total as u64, expected_total, "every non-optional case ran");
    finish(problems);
}

/// The typed default and the setting's type must agree in every suite, so a
/// failing typed read would show up as a wrong value above; this guards the
/// helper that maps JSON to setting values.
#[test]
fn value_mapping_keeps_int_and_float_apart() {
    assert_eq!(value_to_json(Value::Int(5)), Json::from(5));
    assert!(!same_typed_json(&Json::from(5), &Json::from(5.0)));
    assert!(same_typed_json(
        &Json::from(5.561),
        &value_to_json(Value::Float(5.561))
    ));
    assert_eq!(Value::Int(1).setting_type(), SettingType::Int);
}
