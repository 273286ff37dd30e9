//! The heap a parsed config holds, measured with a counting global allocator:
//!
//! `cargo run --release -p configcat-bench --bin heap`
//!
//! Prints, for every config of the workloads, the bytes the parsed
//! [`configcat_core::Config`] keeps allocated (the allocator's requested
//! sizes, without its per-block overhead), the number of blocks, and the
//! ratio to the JSON's size; plus the peak while parsing.
//!
//! `allocation-counter` installs the counting allocator in this binary only
//! (the benchmarks run on the plain system allocator).

use std::process::ExitCode;

use configcat_bench::Suite;
use configcat_core::Config;

fn main() -> ExitCode {
    let suite = match Suite::load() {
        Ok(suite) => suite,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut names: Vec<&String> = suite.configs.keys().collect();
    names.sort();
    println!(
        "{:<12} {:>10} {:>12} {:>8} {:>7} {:>12}",
        "config", "JSON bytes", "heap held", "blocks", "ratio", "parse peak"
    );
    for name in names {
        let Some(file) = suite.configs.get(name) else {
            continue;
        };
        let mut held = None;
        let info = allocation_counter::measure(|| {
            held = Config::parse(&file.json).ok();
        });
        if held.is_none() {
            eprintln!("{name}: does not parse");
            return ExitCode::FAILURE;
        }
        #[expect(clippy::cast_precision_loss, reason = "a ratio for a human to read")]
        let ratio = info.bytes_current as f64 / file.json.len() as f64;
        println!(
            "{:<12} {:>10} {:>12} {:>8} {:>6.2}x {:>12}",
            name,
            file.json.len(),
            info.bytes_current,
            info.count_current,
            ratio,
            info.bytes_max
        );
        drop(held);
    }
    ExitCode::SUCCESS
}
