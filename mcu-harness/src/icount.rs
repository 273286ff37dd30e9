//! Deterministic instruction counts on riscv32 `virt` under `-icount
//! shift=0`, where `minstret` counts every retired instruction: per
//! evaluation for W1-W8 of the anchor workloads (the first users of each),
//! and per parse of each workload config. The device's values are checked
//! against the host's, and the counts against budgets.

use std::collections::BTreeMap;
use std::path::Path;

use configcat_bench::{DefaultValue, Op, Suite};
use configcat_core::NoLog;

use crate::qemu::{self, Machine};
use crate::wire::{Answer, Default, Requests, Responses};

/// Users per workload on the device (the workloads define 1,024).
pub(crate) const USERS: usize = 64;
/// Configs larger than this are not parsed on the device (LARGE, 1.1 MB).
const MAX_CONFIG_BYTES: usize = 200 * 1024;

/// One row of the table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// `W1`, ..., or `parse BASIC`, ...
    pub(crate) id: String,
    /// What it measures.
    pub(crate) title: String,
    /// Instructions per evaluation (mean over the users) or per parse.
    pub(crate) instructions: u64,
}

fn default_of(value: &DefaultValue) -> Default {
    match value {
        DefaultValue::Bool(v) => Default::Bool(*v),
        DefaultValue::Text(v) => Default::Text(v.clone()),
        DefaultValue::Int(v) => Default::Int(*v),
        DefaultValue::Float(v) => Default::Float(*v),
    }
}

fn host_answer(value: Option<configcat_core::Value<'_>>) -> Answer {
    use configcat_core::Value;
    match value {
        None => Answer::None,
        Some(Value::Bool(v)) => Answer::Bool(v),
        Some(Value::Int(v)) => Answer::Int(v),
        Some(Value::Float(v)) => Answer::Float(v),
        Some(Value::Text(v)) => Answer::Text(v.to_owned()),
    }
}

enum Expect {
    Parse(String, String),
    Workload(usize),
}

/// Measures the table on riscv32.
///
/// # Errors
/// When the workloads cannot be read, QEMU cannot run, or a device value
/// differs from the host's.
pub(crate) fn measure(elf: &Path, bench: &Path, work: &Path) -> Result<(Vec<Row>, f64), String> {
    let suite = Suite::load_from(bench)?;
    let mut requests = Requests::new(256 * 1024);
    let mut expect = Vec::new();
    let mut configs: Vec<_> = suite.configs.values().collect();
    configs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut host_values = Vec::new();
    for config in configs {
        if config.json.len() > MAX_CONFIG_BYTES {
            continue;
        }
        requests.drop_all();
        requests.config(0, false, &config.json);
        let is_p1 = suite.parse.iter().find(|p| p.config.name == config.name);
        expect.push(Expect::Parse(
            match is_p1 {
                Some(p1) => format!("{} (parse {})", p1.id, config.name),
                None => format!("parse {}", config.name),
            },
            format!("Config::parse, {} bytes", config.json.len()),
        ));
    }
    for (index, workload) in suite.workloads.iter().enumerate() {
        requests.drop_all();
        requests.config(0, false, &workload.config.json);
        expect.push(Expect::Parse(String::new(), String::new()));
        let host = workload.config.parse()?;
        let (key, default) = match &workload.op {
            Op::GetValue { key, default } => (key.as_str(), default_of(default)),
            Op::GetAllValues => ("", Default::None),
        };
        let users = workload.users.as_ref().map_or(1, |u| u.len().min(USERS));
        let mut values = Vec::new();
        for i in 0..users {
            let user = workload.user(i);
            requests.user(user)?;
            requests.count(key, &default, 1);
            if !key.is_empty() {
                requests.evaluate(false, key, &default);
                let details = host.evaluate(key, user, &NoLog);
                values.push(host_answer(details.value));
            }
        }
        host_values.push(values);
        expect.push(Expect::Workload(index));
    }
    let run = qemu::run(Machine::Riscv32, elf, &requests.into_bytes(), work, true)?;
    if run.status != Some(0) {
        return Err(format!(
            "the firmware stopped with status {:?}:\n{}",
            run.status, run.output
        ));
    }
    let mut answers = Responses::new(run.responses);
    let mut rows = Vec::new();
    for item in expect {
        match item {
            Expect::Parse(id, title) => {
                let parsed = answers.config()??;
                if !id.is_empty() {
                    rows.push(Row {
                        id,
                        title: format!(
                            "{title}: {} settings, {} heap bytes after",
                            parsed.settings, parsed.heap_in_use
                        ),
                        instructions: parsed.instructions,
                    });
                }
            }
            Expect::Workload(index) => {
                let workload = suite.workloads.get(index).ok_or("workload")?;
                let users = workload.users.as_ref().map_or(1, |u| u.len().min(USERS));
                let mut total = 0;
                for i in 0..users {
                    total += answers.count()?;
                    if let Some(expected) = host_values.get(index).and_then(|v| v.get(i)) {
                        let answer = answers.evaluation()?;
                        if answer.value != *expected {
                            return Err(format!(
                                "{} user {i}: the device answered {:?}, the host {expected:?}",
                                workload.id, answer.value
                            ));
                        }
                    }
                }
                rows.push(Row {
                    id: workload.id.clone(),
                    title: format!("{} ({users} users)", workload.title),
                    instructions: total / users as u64,
                });
            }
        }
    }
    Ok((rows, run.elapsed.as_secs_f64()))
}

/// Reads `<id> <budget>` lines (`#` comments).
///
/// # Errors
/// A line that is not an id and a number.
pub(crate) fn read_budgets(path: &Path) -> Result<BTreeMap<String, u64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (budget, id) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("bad budget line {line:?}"))?;
            let budget = budget
                .parse::<u64>()
                .map_err(|e| format!("bad budget line {line:?}: {e}"))?;
            Ok((id.trim().to_owned(), budget))
        })
        .collect()
}
