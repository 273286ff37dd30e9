//! ConfigCat's cross-SDK conformance suites (`../shared/conformance`), run
//! against `configcat-core`: the test matrices, the evaluation-log suites and
//! the other fixtures. Each test prints its case counts. The suites are read
//! by the crate's library, which the device harness (`mcu-harness`) shares.

use std::collections::BTreeMap;

use configcat_conformance::{
    CapturingSink, Logged, Ratchet, check_fixture_case, check_log_case, evaluate_with_json_default,
    fixtures, load_config, log_suites, matrix_answer_ok, matrix_runs, read_json, same_typed_json,
    value_to_json,
};
use configcat_core::{NoLog, SettingType, Value};
use serde_json::Value as Json;

fn finish(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn test_matrices() {
    let Some(dir) = configcat_conformance::data_dir() else {
        return;
    };
    let manifest = read_json(&dir.join("manifest.json"));
    let ratchet = Ratchet::load();
    let mut problems = Vec::new();
    let mut total = 0;
    let runs = matrix_runs(&dir);
    for run in &runs {
        let config = load_config(&run.config);
        let mut ids = Vec::new();
        let mut failures = BTreeMap::new();
        for row in &run.rows {
            for case in &row.cases {
                let details = config.evaluate(&case.key, row.user.as_ref(), &NoLog);
                if !matrix_answer_ok(
                    run.variation_ids,
                    &case.expected,
                    details.value,
                    details.variation_id.as_deref(),
                ) {
                    failures.insert(
                        case.id.clone(),
                        format!(
                            "expected {:?}, got value {:?} variation {:?} error {:?}",
                            case.expected, details.value, details.variation_id, details.error
                        ),
                    );
                }
                ids.push(case.id.clone());
            }
        }
        total += ids.len();
        problems.extend(ratchet.check(&format!("matrix {}", run.name), &ids, &failures));
    }
    configcat_conformance::report(&format!(
        "conformance matrices: {} runs, {total} cases",
        runs.len()
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
    let suites = log_suites(&dir);
    for suite in &suites {
        let config = load_config(&suite.config);
        let mut ids = Vec::new();
        let mut failures = BTreeMap::new();
        for case in &suite.cases {
            let sink = CapturingSink::default();
            let result = evaluate_with_json_default(
                &config,
                &case.key,
                &case.default,
                case.user.as_ref(),
                &sink,
            );
            let log: String = sink
                .take()
                .iter()
                .map(|record| format!("{record}\n"))
                .collect();
            if let Some(problem) = check_log_case(case, &result.value, &log) {
                failures.insert(case.id.clone(), problem);
            }
            ids.push(case.id.clone());
        }
        total += ids.len();
        problems.extend(ratchet.check(&format!("log {}", suite.name), &ids, &failures));
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

/// The matched rule's and % option's `Display` is the text the log suites'
/// expected logs (ConfigCat's own) print for them: each condition, the THEN
/// part, and the option the hash selects, numbered from 1.
#[test]
fn matched_rule_and_option_display_the_logs_text() {
    let Some(dir) = configcat_conformance::data_dir() else {
        return;
    };
    let mut problems = Vec::new();
    let (mut rules, mut options) = (0, 0);
    for suite in &log_suites(&dir) {
        let config = load_config(&suite.config);
        for case in &suite.cases {
            let details = config.evaluate(&case.key, case.user.as_ref(), &NoLog);
            let log = &case.expected_log;
            if let Some(rule) = &details.matched_targeting_rule {
                rules += 1;
                let text = rule.to_string();
                let (conditions, then) = text.rsplit_once(" THEN ").unwrap_or((&text, ""));
                let mut parts = conditions.split(" AND ");
                let first = parts.next().unwrap_or_default();
                let mut expected = vec![format!("- {first}"), format!("THEN {then} => MATCH")];
                expected.extend(parts.map(|part| format!("AND {part}")));
                for part in expected {
                    if !log.contains(&part) {
                        problems.push(format!(
                            "{}: rule {text:?}: the log has no {part:?}",
                            case.id
                        ));
                    }
                }
            }
            if let Some(option) = &details.matched_percentage_option {
                options += 1;
                let part = format!("selects {option}.");
                if !log.contains(&part) {
                    problems.push(format!("{}: the log has no {part:?}", case.id));
                }
            }
        }
    }
    configcat_conformance::report(&format!(
        "matched rule / % option text: {rules} rules, {options} options found in the expected logs"
    ));
    assert!(
        rules > 0 && options > 0,
        "the suites match rules and options"
    );
    finish(problems);
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
    let (fixtures, optional_skipped) = fixtures(&dir);
    for fixture in &fixtures {
        let mut ids = Vec::new();
        let mut failures = BTreeMap::new();
        for case in &fixture.cases {
            let config = case.config.load();
            let sink = CapturingSink::default();
            let result = evaluate_with_json_default(
                &config,
                &case.key,
                &case.default,
                case.user.as_ref(),
                &sink,
            );
            let records = sink.take();
            let logged: Vec<Logged<'_>> = records
                .iter()
                .map(|r| Logged {
                    level: r.level,
                    id: r.id.code(),
                    message: &r.message,
                })
                .collect();
            let wrong = check_fixture_case(&case.spec, &result, &logged);
            if !wrong.is_empty() {
                failures.insert(case.id.clone(), wrong.join("; "));
            }
            ids.push(case.id.clone());
        }
        total += ids.len();
        problems.extend(ratchet.check(&format!("other {}", fixture.name), &ids, &failures));
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
