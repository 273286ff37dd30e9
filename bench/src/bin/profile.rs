//! Runs one workload in a loop, for a profiler (`valgrind --tool=callgrind`, `perf record`):
//!
//! `cargo run --release -p configcat-bench --bin profile -- <core|std|parse|ready> <W1..W8|P1-...> [iterations]`
//!
//! `parse` parses a P1 config and evaluates its first key; `ready` builds a
//! std client on it (flag override file, LocalOnly) until it is ready.
//!
//! Checks the workload's checksum over users 0..1023, prints it and the mean
//! time per iteration; the timed iterations hide their results from the
//! optimiser instead of folding them, as the benchmarks do.

use std::process::ExitCode;
use std::time::Instant;

use configcat_bench::{
    CoreAll, DefaultValue, Op, Sink, Suite, USERS, Workload, core_get, fold_first, fold_value_map,
    std_client, std_get,
};
use configcat_core::Config;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), Some(id)) = (args.first(), args.get(1)) else {
        eprintln!("usage: profile <core|std|parse|ready> <workload id> [iterations]");
        return ExitCode::FAILURE;
    };
    let iterations: usize = args
        .get(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    match run(path, id, iterations) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str, id: &str, iterations: usize) -> Result<(), String> {
    let suite = Suite::load()?;
    let parse_workload = || {
        suite
            .parse
            .iter()
            .find(|w| w.id == id)
            .ok_or_else(|| format!("no parse workload {id}"))
    };
    if path == "parse" {
        let workload = parse_workload()?;
        let start = Instant::now();
        let mut sink = Sink::checksum();
        for _ in 0..iterations {
            let config = Config::parse(&workload.config.json).map_err(|e| e.to_string())?;
            fold_first(&config, workload, Some(&workload.user), &mut sink);
        }
        report(start, iterations, sink);
        return Ok(());
    }
    if path == "ready" {
        let workload = parse_workload()?;
        let mut total = std::time::Duration::ZERO;
        for _ in 0..iterations {
            let start = Instant::now();
            let client = std_client(&workload.config)?;
            total += start.elapsed();
            client.close();
        }
        #[expect(clippy::cast_precision_loss, reason = "a mean for a human to read")]
        let mean = total.as_nanos() as f64 / iterations.max(1) as f64;
        println!("{iterations} iterations, {mean:.1} ns each (client build to ready)");
        return Ok(());
    }
    let workload = suite.workload(id)?;
    match path {
        "core" => {
            let config = workload.config.parse()?;
            let mut all = CoreAll::new(&config);
            let mut step = |index: usize, sink: &mut Sink| match &workload.op {
                Op::GetValue { key, default } => {
                    let user = workload.user(index);
                    match default {
                        DefaultValue::Bool(d) => core_get(&config, key, *d, user, sink),
                        DefaultValue::Text(d) => core_get(&config, key, d.as_str(), user, sink),
                        DefaultValue::Int(d) => core_get(&config, key, *d, user, sink),
                        DefaultValue::Float(d) => core_get(&config, key, *d, user, sink),
                    }
                }
                Op::GetAllValues => all.fold(workload.user(index), sink),
            };
            drive(workload, iterations, &mut step)
        }
        "std" => {
            let client = std_client(&workload.config)?;
            let mut step = |index: usize, sink: &mut Sink| {
                let user = workload.user(index);
                match &workload.op {
                    Op::GetValue { key, default } => match default {
                        DefaultValue::Bool(d) => std_get(&client, key, d, user, sink),
                        DefaultValue::Text(d) => std_get(&client, key, d, user, sink),
                        DefaultValue::Int(d) => std_get(&client, key, d, user, sink),
                        DefaultValue::Float(d) => std_get(&client, key, d, user, sink),
                    },
                    Op::GetAllValues => fold_value_map(&client.get_all_values(user), sink),
                }
            };
            let result = drive(workload, iterations, &mut step);
            client.close();
            result
        }
        other => Err(format!("unknown path {other}: use core, std or parse")),
    }
}

fn drive(
    workload: &Workload,
    iterations: usize,
    step: &mut impl FnMut(usize, &mut Sink),
) -> Result<(), String> {
    let mut check = Sink::checksum();
    for index in 0..USERS {
        step(index, &mut check);
    }
    if check.finish() != workload.expected_check {
        return Err(format!(
            "{}: checksum {:016x}, expected {:016x}",
            workload.id,
            check.finish(),
            workload.expected_check
        ));
    }
    // Timed as the benchmarks are: results are hidden from the optimiser, not folded.
    let start = Instant::now();
    let mut sink = Sink::opaque();
    for index in 0..iterations {
        step(index, &mut sink);
    }
    report(start, iterations, check);
    Ok(())
}

#[expect(clippy::cast_precision_loss, reason = "a mean for a human to read")]
fn report(start: Instant, iterations: usize, check: Sink) {
    let elapsed = start.elapsed();
    println!(
        "{iterations} iterations, {:.1} ns each, checksum {:016x}",
        elapsed.as_nanos() as f64 / iterations.max(1) as f64,
        check.finish()
    );
}
