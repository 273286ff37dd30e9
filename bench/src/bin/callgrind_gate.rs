//! The measured program of the instruction-count gate (`.ci/callgrind-gate.sh`):
//!
//! `callgrind_gate <W1..W8|P1-comparators|P1-large> <ops>`
//!
//! For W1-W8 it builds a std client on the workload's config (LocalOnly
//! file override, as the benchmarks do), checks the workload's checksum
//! through it, then makes `ops` reads (user `i % 1024`, results hidden from
//! the optimiser, not folded). For P1 it checks the workload's checksum,
//! then `ops` times builds a client on the config until it is ready and
//! reads the first key for the workload's user. Only
//! [`measured_region`] is counted: callgrind runs with
//! `--toggle-collect=*measured_region*`, so setup, checks and teardown
//! are not. Everything goes through `configcat-std`'s public API.

use std::hint::black_box;
use std::process::ExitCode;

use configcat_bench::{
    DefaultValue, Op, ParseWorkload, Sink, Suite, Workload, fold_value_map, parse_check_value,
    std_check, std_client, std_get,
};
use configcat_std::Client;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(id), Some(ops)) = (
        args.first(),
        args.get(1).and_then(|ops| ops.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: callgrind_gate <W1..W8|P1-comparators|P1-large> <ops>");
        return ExitCode::FAILURE;
    };
    match run(id, ops) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(id: &str, ops: usize) -> Result<(), String> {
    let suite = Suite::load()?;
    if let Some(workload) = suite.parse.iter().find(|workload| workload.id == id) {
        return client_build(workload, ops);
    }
    reads(suite.workload(id)?, ops)
}

/// The region callgrind counts: `ops` calls of `step`. Not inlined, so
/// that its symbol exists for `--toggle-collect`.
#[inline(never)]
fn measured_region(ops: usize, step: &mut dyn FnMut(usize)) {
    for index in 0..ops {
        step(index);
    }
}

fn reads(workload: &Workload, ops: usize) -> Result<(), String> {
    let client = std_client(&workload.config)?;
    let check = std_check(workload, &client);
    if check != workload.expected_check {
        client.close();
        return Err(format!(
            "{}: checksum {check:016x} through the std client, expected {:016x}",
            workload.id, workload.expected_check
        ));
    }
    let mut sink = Sink::opaque();
    let mut step = |index: usize| read(&client, workload, index, &mut sink);
    measured_region(ops, &mut step);
    black_box(sink.finish());
    client.close();
    eprintln!("{}: {ops} reads through the std client", workload.id);
    Ok(())
}

fn read(client: &Client, workload: &Workload, index: usize, sink: &mut Sink) {
    let user = workload.user(index);
    match &workload.op {
        Op::GetValue { key, default } => match default {
            DefaultValue::Bool(d) => std_get(client, key, d, user, sink),
            DefaultValue::Text(d) => std_get(client, key, d, user, sink),
            DefaultValue::Int(d) => std_get(client, key, d, user, sink),
            DefaultValue::Float(d) => std_get(client, key, d, user, sink),
        },
        Op::GetAllValues => fold_value_map(&client.get_all_values(user), sink),
    }
}

fn client_build(workload: &ParseWorkload, ops: usize) -> Result<(), String> {
    let check = parse_check_value(workload)?;
    if check != workload.expected_check {
        return Err(format!(
            "{}: checksum {check:016x}, expected {:016x}",
            workload.id, workload.expected_check
        ));
    }
    let mut clients = Vec::with_capacity(ops);
    let mut failure = None;
    let mut sink = Sink::opaque();
    let mut step = |_index: usize| match std_client(&workload.config) {
        Ok(client) => {
            first_read(&client, workload, &mut sink);
            clients.push(client);
        }
        Err(error) => failure = Some(error),
    };
    measured_region(ops, &mut step);
    black_box(sink.finish());
    for client in clients {
        client.close();
    }
    if let Some(error) = failure {
        return Err(error);
    }
    eprintln!(
        "{}: {ops} client builds to ready, each with its first read",
        workload.id
    );
    Ok(())
}

fn first_read(client: &Client, workload: &ParseWorkload, sink: &mut Sink) {
    let key = workload.first_key.as_str();
    let user = Some(&workload.user);
    match &workload.default {
        DefaultValue::Bool(d) => std_get(client, key, d, user, sink),
        DefaultValue::Text(d) => std_get(client, key, d, user, sink),
        DefaultValue::Int(d) => std_get(client, key, d, user, sink),
        DefaultValue::Float(d) => std_get(client, key, d, user, sink),
    }
}
