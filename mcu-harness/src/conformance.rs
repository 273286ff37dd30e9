//! ConfigCat's conformance suites on the device: every matrix cell, every
//! evaluation-log test (the log built on the device, compared byte for
//! byte) and every fixture case that applies to a typed SDK, in one QEMU run.

use std::collections::BTreeMap;
use std::path::Path;

use configcat_conformance::{
    Evaluated, FixtureConfig, LocalOverride, Logged, Ratchet, check_fixture_case, check_log_case,
    fixtures, log_suites, matrix_answer_ok, matrix_runs,
};
use serde_json::Value as Json;

use crate::qemu::{self, Machine};
use crate::wire::{Answer, Default, Evaluation, Requests, Responses, Stats};

/// What the firmware is asked, in order, so that the answers can be matched.
enum Expect {
    Config(String),
    Matrix { run: usize, row: usize, case: usize },
    Log { suite: usize, case: usize },
    Fixture { fixture: usize, case: usize },
    Stats(String),
    Client,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn answer_json(answer: &Answer) -> Json {
    match answer {
        Answer::None => Json::Null,
        Answer::Bool(v) => Json::Bool(*v),
        Answer::Int(v) => Json::from(*v),
        Answer::Float(v) => serde_json::Number::from_f64(*v).map_or(Json::Null, Json::Number),
        Answer::Text(v) => Json::String(v.clone()),
    }
}

fn evaluated(answer: &Evaluation) -> Evaluated {
    Evaluated {
        value: answer_json(&answer.value),
        variation_id: answer.variation_id.clone(),
        error: answer.error.clone(),
        matched_targeting_rule: answer.matched_targeting_rule,
        matched_percentage_option: answer.matched_percentage_option,
    }
}

/// The figures of one config's run.
#[derive(Debug)]
pub(crate) struct Measured {
    /// The config (or fixture) measured.
    pub(crate) label: String,
    /// Its heap and stack figures.
    pub(crate) stats: Stats,
}

/// The outcome of a conformance run.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// What makes the run fail (empty when it passes).
    pub(crate) problems: Vec<String>,
    /// Per-config heap and stack figures.
    pub(crate) measured: Vec<Measured>,
    /// Cases run per kind: matrices, logs, fixtures.
    pub(crate) totals: [usize; 3],
    /// QEMU's wall-clock time, in seconds.
    pub(crate) seconds: f64,
    /// Whether the firmware ran to the end (no panic, no fault, no allocation failure).
    pub(crate) completed: bool,
    /// Its output when it did not.
    pub(crate) output: String,
}

/// Runs the suites on `machine` with a heap of `heap_bytes`; problems are
/// checked against the ratchet `known_failures`.
///
/// # Errors
/// When the data set cannot be read or QEMU cannot be run.
#[expect(
    clippy::too_many_lines,
    reason = "one pass writes the requests, one reads the answers: kept side by side"
)]
pub(crate) fn run(
    machine: Machine,
    elf: &Path,
    heap_bytes: u32,
    data: &Path,
    known_failures: &Path,
    work: &Path,
) -> Result<Outcome, String> {
    let runs = matrix_runs(data);
    let suites = log_suites(data);
    let (fixtures, _optional) = fixtures(data);
    let mut requests = Requests::new(heap_bytes);
    let mut expect = Vec::new();

    for (r, run) in runs.iter().enumerate() {
        requests.drop_all();
        requests.reset();
        requests.config(0, true, &read(&run.config)?);
        expect.push(Expect::Config(format!("matrix {}", run.name)));
        for (w, row) in run.rows.iter().enumerate() {
            requests.user(row.user.as_ref())?;
            for (c, case) in row.cases.iter().enumerate() {
                requests.evaluate(false, &case.key, &Default::None);
                expect.push(Expect::Matrix {
                    run: r,
                    row: w,
                    case: c,
                });
            }
        }
        requests.stats();
        expect.push(Expect::Stats(format!("matrix {}", run.name)));
    }
    for (s, suite) in suites.iter().enumerate() {
        requests.drop_all();
        requests.reset();
        requests.config(0, true, &read(&suite.config)?);
        expect.push(Expect::Config(format!("log {}", suite.name)));
        for (c, case) in suite.cases.iter().enumerate() {
            requests.user(case.user.as_ref())?;
            requests.evaluate(true, &case.key, &Default::from_json(&case.default)?);
            expect.push(Expect::Log { suite: s, case: c });
        }
        requests.stats();
        expect.push(Expect::Stats(format!("log {}", suite.name)));
    }
    for (f, fixture) in fixtures.iter().enumerate() {
        requests.drop_all();
        requests.reset();
        for (c, case) in fixture.cases.iter().enumerate() {
            requests.drop_all();
            match &case.config {
                FixtureConfig::File(path) => {
                    requests.config(0, true, &read(path)?);
                    expect.push(Expect::Config(case.id.clone()));
                }
                FixtureConfig::Merged { remote, local } => {
                    requests.config(0, true, &read(remote)?);
                    expect.push(Expect::Config(case.id.clone()));
                    if let Some((local, behaviour)) = local {
                        match local {
                            LocalOverride::File(path) => {
                                requests.config(1, true, &read(path)?);
                                expect.push(Expect::Config(case.id.clone()));
                            }
                            LocalOverride::Values(values) => requests.values(1, values),
                        }
                        requests.merge(*behaviour)?;
                    }
                }
            }
            requests.user(case.user.as_ref())?;
            requests.evaluate(true, &case.key, &Default::from_json(&case.default)?);
            expect.push(Expect::Fixture {
                fixture: f,
                case: c,
            });
        }
        requests.stats();
        expect.push(Expect::Stats(format!("other {}", fixture.name)));
    }

    requests.drop_all();
    requests.reset();
    requests.client();
    expect.push(Expect::Client);
    requests.stats();
    expect.push(Expect::Stats(
        "embedded client (boot, fetch, 304, reboot)".to_owned(),
    ));
    let result = qemu::run(machine, elf, &requests.into_bytes(), work, false)?;
    let mut outcome = Outcome {
        seconds: result.elapsed.as_secs_f64(),
        completed: result.status == Some(0),
        ..Outcome::default()
    };
    if !outcome.completed {
        outcome.output = result.output.clone();
        outcome.problems.push(format!(
            "the firmware stopped with status {:?} before answering everything:\n{}",
            result.status,
            result.output.trim_end()
        ));
    }
    let mut answers = Responses::new(result.responses);
    // Failures per suite (matrix run, log suite, fixture), keyed by case id.
    let mut failures: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut ran: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unanswered = 0;
    for item in &expect {
        let (suite, id, problem) = match item {
            Expect::Config(what) => {
                match answers.config() {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => outcome.problems.push(format!(
                        "{what}: the config did not parse on the device: {error}"
                    )),
                    Err(_) => unanswered += 1,
                }
                continue;
            }
            Expect::Client => {
                match answers.client() {
                    Ok(true) => {}
                    Ok(false) => outcome.problems.push(
                        "the embedded client on the simulated device did not serve as expected"
                            .to_owned(),
                    ),
                    Err(_) => unanswered += 1,
                }
                continue;
            }
            Expect::Stats(label) => {
                if let Ok(stats) = answers.stats() {
                    outcome.measured.push(Measured {
                        label: label.clone(),
                        stats,
                    });
                } else {
                    unanswered += 1;
                }
                continue;
            }
            Expect::Matrix { run, row, case } => {
                let Some(run) = runs.get(*run) else {
                    continue;
                };
                let Some(case) = run.rows.get(*row).and_then(|row| row.cases.get(*case)) else {
                    continue;
                };
                outcome.totals[0] += 1;
                let problem = match answers.evaluation() {
                    Ok(answer) => (!matrix_answer_ok(
                        run.variation_ids,
                        &case.expected,
                        answer.value.as_value(),
                        answer.variation_id.as_deref(),
                    ))
                    .then(|| {
                        format!(
                            "expected {:?}, got value {:?} variation {:?} error {:?}",
                            case.expected, answer.value, answer.variation_id, answer.error
                        )
                    }),
                    Err(e) => Some(e),
                };
                (format!("matrix {}", run.name), case.id.clone(), problem)
            }
            Expect::Log { suite, case } => {
                let Some(suite) = suites.get(*suite) else {
                    continue;
                };
                let Some(case) = suite.cases.get(*case) else {
                    continue;
                };
                outcome.totals[1] += 1;
                let problem = match answers.evaluation() {
                    Ok(answer) => {
                        let log: String = answer.records.iter().map(|r| r.line.as_str()).collect();
                        check_log_case(case, &answer_json(&answer.value), &log)
                    }
                    Err(e) => Some(e),
                };
                (format!("log {}", suite.name), case.id.clone(), problem)
            }
            Expect::Fixture { fixture, case } => {
                let Some(fixture) = fixtures.get(*fixture) else {
                    continue;
                };
                let Some(case) = fixture.cases.get(*case) else {
                    continue;
                };
                outcome.totals[2] += 1;
                let problem = match answers.evaluation() {
                    Ok(answer) => {
                        let logged: Vec<Logged<'_>> = answer
                            .records
                            .iter()
                            .map(|r| Logged {
                                level: r.level,
                                id: r.id,
                                message: r.message(),
                            })
                            .collect();
                        let wrong = check_fixture_case(&case.spec, &evaluated(&answer), &logged);
                        (!wrong.is_empty()).then(|| wrong.join("; "))
                    }
                    Err(e) => Some(e),
                };
                (format!("other {}", fixture.name), case.id.clone(), problem)
            }
        };
        ran.entry(suite.clone()).or_default().push(id.clone());
        if let Some(problem) = problem {
            failures.entry(suite).or_default().insert(id, problem);
        }
    }
    if unanswered > 0 {
        outcome
            .problems
            .push(format!("{unanswered} requests without an answer"));
    }
    if !answers.at_end() {
        outcome.problems.push("answers left over".to_owned());
    }
    let ratchet = Ratchet::load_from(known_failures);
    for (suite, ids) in &ran {
        let none = BTreeMap::new();
        let failed = failures.get(suite).unwrap_or(&none);
        // The ratchet prints the suite's counts.
        outcome.problems.extend(ratchet.check(suite, ids, failed));
    }
    Ok(outcome)
}
