//! Two threads reading the same std client: throughput with two threads
//! over throughput with one.
//!
//! `cargo run --release -p configcat-bench --bin scaling [reads per thread]`
//!
//! For W1, W2 and W3, one thread does N reads, then two threads do N reads
//! each at the same time (started together by a barrier); the scaling is
//! `2 × time(1 thread) / time(2 threads)`, the median of five rounds. Each
//! thread folds its values into its own checksum, which is checked.
//!
//! A control row runs a pure arithmetic loop the same way: it shows how far
//! the machine itself scales (other processes on it, or vCPUs that share a
//! physical core, pull it below 2×). The client's scaling relative to the
//! machine's is the last column. A second control row runs W3's floor,
//! bare SHA-1 of its inputs, the same way: whether the hash W3 must do
//! scales on this machine (hardware threads of one core share its SHA unit).
//! A third runs W1 through the core on a parsed config, without a client:
//! reads of memory no thread writes, which the client's rows cannot beat.
#![allow(
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    reason = "a measuring program: medians of five fixed-size samples, times for a human to read"
)]

use std::process::ExitCode;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use configcat_bench::{
    DefaultValue, Op, Sink, Suite, USERS, Workload, bare_sha1, core_get, sha1_inputs, std_client,
    std_get,
};
use configcat_std::Client;

fn main() -> ExitCode {
    let reads: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000);
    match run(reads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(reads: usize) -> Result<(), String> {
    let suite = Suite::load()?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("{cores} cores; {reads} reads per thread; median of 5 rounds");
    let machine = control()?;
    println!(
        "{:<8} {:>14} {:>14} {:>10} {:>14}",
        "", "1 thread", "2 threads", "scaling", "vs machine"
    );
    let control_row = |name: &str, scaling: f64| {
        println!(
            "{name:<8} {:>14} {:>14} {scaling:>9.2}x {:>13.2}x",
            "-",
            "-",
            scaling / machine
        );
    };
    control_row("control", machine);
    control_row("sha1", sha1_control(suite.workload("W3")?)?);
    control_row("core W1", core_control(suite.workload("W1")?, reads)?);
    for id in ["W1", "W2", "W3"] {
        let workload = suite.workload(id)?;
        let client = std_client(&workload.config)?;
        let reads = reads - reads % USERS;
        // The checksum of `reads` iterations is the checksum of the 1,024
        // users repeated; every run's is checked against a first one.
        let expected = read(&client, workload, reads)?;
        let scaling = scaling_of(|| {
            if read(&client, workload, reads)? == expected {
                Ok(())
            } else {
                Err(format!("{id}: checksum changed"))
            }
        })?;
        client.close();
        let per_read = |total: Duration| total.as_secs_f64() * 1e9 / reads as f64;
        println!(
            "{id:<8} {:>11.1} ns {:>11.1} ns {:>9.2}x {:>13.2}x",
            per_read(scaling.one),
            per_read(scaling.two),
            scaling.ratio,
            scaling.ratio / machine
        );
    }
    Ok(())
}

/// The machine's own two-thread scaling: a pure arithmetic loop.
fn control() -> Result<f64, String> {
    fn spin(rounds: u64) -> u64 {
        let mut x = 1_u64;
        for i in 0..rounds {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
        }
        x
    }
    const ROUNDS: u64 = 200_000_000;
    let scaling = scaling_of(|| {
        std::hint::black_box(spin(std::hint::black_box(ROUNDS)));
        Ok(())
    })?;
    Ok(scaling.ratio)
}

/// The machine's two-thread scaling on W3's floor: bare SHA-1 of the same
/// inputs, which a hash-bound read cannot scale past.
fn sha1_control(workload: &Workload) -> Result<f64, String> {
    let inputs = sha1_inputs(workload);
    let scaling = scaling_of(|| {
        for (key, identifier) in inputs.iter().cycle().take(2_000_000) {
            std::hint::black_box(bare_sha1(key, identifier));
        }
        Ok(())
    })?;
    Ok(scaling.ratio)
}

/// The machine's two-thread scaling on W1's reads through a parsed config,
/// without a client: memory that two threads only read, the same pattern
/// as the client's cached reads. What the client's rows can reach.
fn core_control(workload: &Workload, reads: usize) -> Result<f64, String> {
    let Op::GetValue {
        key,
        default: DefaultValue::Bool(default),
    } = &workload.op
    else {
        return Err(format!("{}: not a bool get_value workload", workload.id));
    };
    let config = workload.config.parse()?;
    let scaling = scaling_of(|| {
        let mut sink = Sink::checksum();
        for index in 0..reads {
            core_get(&config, key, *default, workload.user(index), &mut sink);
        }
        std::hint::black_box(sink);
        Ok(())
    })?;
    Ok(scaling.ratio)
}

/// Medians of five rounds, each timing `work` once alone, then on two
/// threads at once (started together by a barrier).
struct Scaling {
    /// `2 × time(1 thread) / time(2 threads)`.
    ratio: f64,
    one: Duration,
    two: Duration,
}

fn scaling_of(work: impl Fn() -> Result<(), String> + Sync) -> Result<Scaling, String> {
    let (mut ratios, mut ones, mut twos) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        work()?;
        let one = start.elapsed();
        let barrier = Barrier::new(2);
        let start = Instant::now();
        let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        work()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
                .collect()
        });
        let two = start.elapsed();
        results.into_iter().collect::<Result<(), String>>()?;
        ratios.push(2.0 * one.as_secs_f64() / two.as_secs_f64());
        ones.push(one);
        twos.push(two);
    }
    ratios.sort_by(f64::total_cmp);
    ones.sort();
    twos.sort();
    Ok(Scaling {
        ratio: ratios[2],
        one: ones[2],
        two: twos[2],
    })
}

/// `reads` evaluations of the workload through `client`, folded into a checksum.
fn read(client: &Client, workload: &Workload, reads: usize) -> Result<Sink, String> {
    let Op::GetValue { key, default } = &workload.op else {
        return Err(format!("{}: not a get_value workload", workload.id));
    };
    let mut sink = Sink::checksum();
    for index in 0..reads {
        let user = workload.user(index);
        match default {
            DefaultValue::Bool(d) => std_get(client, key, d, user, &mut sink),
            DefaultValue::Text(d) => std_get(client, key, d, user, &mut sink),
            DefaultValue::Int(d) => std_get(client, key, d, user, &mut sink),
            DefaultValue::Float(d) => std_get(client, key, d, user, &mut sink),
        }
    }
    Ok(sink)
}
