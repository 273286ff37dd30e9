//! `mcu-harness`: the host side of the microcontroller runs (`mcu/`).
//!
//! ```text
//! mcu-harness conformance --machine M --elf FIRMWARE [--heap BYTES]
//! mcu-harness heap-search --machine M --elf FIRMWARE
//! mcu-harness hostile     --machine M --elf FIRMWARE [--heap BYTES]
//! mcu-harness icount      --elf FIRMWARE [--budgets FILE] [--write-budgets FILE]
//! mcu-harness e2e         --elf E2E_FIRMWARE [--interval-ms MS]
//! mcu-harness e2e-size    --elf E2E_FIRMWARE [--heap BYTES] [--config-bytes N]
//! ```
//!
//! M is `riscv32` (virt, lowrisc-ibex), `mps2-an385` or `mps2-an386`;
//! FIRMWARE the `device` binary built for that machine's ISA. It writes the
//! requests, runs QEMU once, reads the answers and checks them; the exit
//! status is 1 on any problem. It is a Rust program of the main workspace
//! so that it reads the suites and workloads with the very code the host
//! tests use (`configcat-conformance`, `configcat-bench`) and compares with
//! the same checks.
//!
//! `e2e` and `e2e-size` run the `e2e` firmware (riscv32 only) with a
//! network card on QEMU's user-mode network against the CDN stand-in: the
//! embedded client's scenario, and the largest config it fetches, stores
//! and switches to in a heap (bisection, or one size with `--config-bytes`).

mod conformance;
mod e2e;
mod hostile;
mod icount;
mod qemu;
mod wire;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use qemu::Machine;

/// The heap the CI runs with, a round figure above the smallest that passes
/// on all three machines (20,736 bytes, 20.25 KiB; the largest peak is
/// 19,509 bytes in log comparators), well inside a 64 KB-RAM part.
const DEFAULT_HEAP: u32 = 24 * 1024;

/// The heap of the hostile-input run: the embedded client's bodies are up
/// to 32 KiB, and the refresher keeps its own copy of one.
const HOSTILE_HEAP: u32 = 64 * 1024;

struct Args {
    command: String,
    machine: Option<Machine>,
    elf: Option<PathBuf>,
    heap: Option<u32>,
    budgets: Option<PathBuf>,
    write_budgets: Option<PathBuf>,
    interval_ms: Option<u64>,
    config_bytes: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let command = args
        .next()
        .ok_or("no command (conformance, heap-search, hostile, icount, e2e, e2e-size)")?;
    let mut parsed = Args {
        command,
        machine: None,
        elf: None,
        heap: None,
        budgets: None,
        write_budgets: None,
        interval_ms: None,
        config_bytes: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--machine" => parsed.machine = Some(Machine::parse(&value)?),
            "--elf" => parsed.elf = Some(PathBuf::from(value)),
            "--heap" => parsed.heap = Some(value.parse().map_err(|e| format!("--heap: {e}"))?),
            "--budgets" => parsed.budgets = Some(PathBuf::from(value)),
            "--write-budgets" => parsed.write_budgets = Some(PathBuf::from(value)),
            "--interval-ms" => {
                parsed.interval_ms =
                    Some(value.parse().map_err(|e| format!("--interval-ms: {e}"))?);
            }
            "--config-bytes" => {
                parsed.config_bytes =
                    Some(value.parse().map_err(|e| format!("--config-bytes: {e}"))?);
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(parsed)
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn work_dir() -> PathBuf {
    std::env::temp_dir().join("configcat-mcu-harness")
}

fn data_dir() -> Result<PathBuf, String> {
    configcat_conformance::data_dir().ok_or_else(|| "conformance data not found".to_owned())
}

fn kib(bytes: u32) -> String {
    format!("{:.1} KiB", f64::from(bytes) / 1024.0)
}

fn print_conformance(machine: Machine, heap: u32, outcome: &conformance::Outcome) {
    println!(
        "conformance on {}: {} matrix cases, {} evaluation-log cases, {} fixture cases; heap {}; QEMU {:.1} s",
        machine.describe(),
        outcome.totals[0],
        outcome.totals[1],
        outcome.totals[2],
        kib(heap),
        outcome.seconds
    );
    println!(
        "| config (suite) | heap peak | largest blocks at the peak | heap after (blocks) | stack high-water |"
    );
    println!("|---|---:|---|---:|---:|");
    for m in &outcome.measured {
        let largest: Vec<String> = m
            .stats
            .peak_blocks
            .iter()
            .take(3)
            .map(u32::to_string)
            .collect();
        println!(
            "| {} | {} | {} of {} | {} ({}) | {} |",
            m.label,
            m.stats.peak,
            largest.join(", "),
            m.stats.peak_blocks.len(),
            m.stats.in_use,
            m.stats.blocks,
            m.stats.stack
        );
    }
    if let Some(top) = outcome.measured.iter().max_by_key(|m| m.stats.peak) {
        let blocks = &top.stats.peak_blocks;
        let shown: Vec<String> = blocks.iter().take(12).map(u32::to_string).collect();
        let rest: u32 = blocks.iter().skip(12).sum();
        println!(
            "largest heap peak: {} bytes in {} ({} live blocks; largest first: {} ... and {} bytes in the other {})",
            top.stats.peak,
            top.label,
            blocks.len(),
            shown.join(", "),
            rest,
            blocks.len().saturating_sub(12)
        );
    }
    if let Some(top) = outcome.measured.iter().max_by_key(|m| m.stats.stack) {
        println!(
            "stack high-water: {} bytes ({})",
            top.stats.stack, top.label
        );
    }
}

fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let elf = || args.elf.clone().ok_or("--elf is required");
    let machine = || args.machine.ok_or("--machine is required");
    let known = repo_root().join("mcu/known_failures.txt");
    match args.command.as_str() {
        "conformance" => {
            let outcome = conformance::run(
                machine()?,
                &elf()?,
                args.heap.unwrap_or(DEFAULT_HEAP),
                &data_dir()?,
                &known,
                &work_dir(),
            )?;
            print_conformance(machine()?, args.heap.unwrap_or(DEFAULT_HEAP), &outcome);
            for problem in &outcome.problems {
                eprintln!("{problem}");
            }
            Ok(outcome.problems.is_empty())
        }
        "heap-search" => {
            let data = data_dir()?;
            // The smallest heap (in 256-byte steps) in which every suite runs.
            let (mut fails, mut passes) = (8 * 1024_u32, 128 * 1024_u32);
            while passes - fails > 256 {
                let heap = (fails + passes) / 2 / 256 * 256;
                let outcome =
                    conformance::run(machine()?, &elf()?, heap, &data, &known, &work_dir())?;
                let ok = outcome.completed && outcome.problems.is_empty();
                let first_line = outcome
                    .output
                    .lines()
                    .find(|l| l.contains("heap request"))
                    .unwrap_or("");
                println!(
                    "heap {heap} bytes: {} {first_line}",
                    if ok { "passes" } else { "fails" }
                );
                if ok {
                    passes = heap;
                } else {
                    fails = heap;
                }
            }
            println!(
                "smallest heap that passes on {}: {passes} bytes ({})",
                machine()?.describe(),
                kib(passes)
            );
            Ok(true)
        }
        "hostile" => {
            let outcome = hostile::run(
                machine()?,
                &elf()?,
                args.heap.unwrap_or(HOSTILE_HEAP),
                &repo_root(),
                &data_dir()?,
                &work_dir(),
            )?;
            println!(
                "hostile input on {}: {} inputs x 4 entry points, {} answers ({} rejected with a message, {} accepted and evaluated {} times), {} problems; QEMU {:.1} s",
                machine()?.describe(),
                outcome.inputs,
                outcome.answers,
                outcome.rejected,
                outcome.answers - outcome.rejected,
                outcome.evaluations,
                outcome.problems.len(),
                outcome.seconds
            );
            if let Some(stats) = &outcome.stats {
                println!(
                    "heap peak {} bytes (heap {}), stack high-water {} bytes, {} bytes still in use",
                    stats.peak,
                    kib(stats.heap_size),
                    stats.stack,
                    stats.in_use
                );
            }
            for problem in &outcome.problems {
                eprintln!("{problem}");
            }
            Ok(outcome.problems.is_empty())
        }
        "icount" => {
            let bench = configcat_bench::bench_dir()?;
            let (rows, seconds) = icount::measure(&elf()?, &bench, &work_dir())?;
            let budgets = match &args.budgets {
                Some(path) => Some(icount::read_budgets(path)?),
                None => None,
            };
            println!(
                "instructions on riscv32imc (virt, lowrisc-ibex, -icount shift=0; QEMU {seconds:.1} s)"
            );
            println!("| id | what | instructions | budget |");
            println!("|---|---|---:|---:|");
            let mut ok = true;
            for row in &rows {
                let budget = budgets.as_ref().and_then(|b| b.get(&row.id)).copied();
                let verdict = match budget {
                    Some(b) if row.instructions > b => {
                        ok = false;
                        format!("{b} OVER BUDGET")
                    }
                    Some(b) => b.to_string(),
                    None if budgets.is_some() => {
                        ok = false;
                        "no budget".to_owned()
                    }
                    None => "-".to_owned(),
                };
                println!(
                    "| {} | {} | {} | {verdict} |",
                    row.id, row.title, row.instructions
                );
            }
            if let Some(path) = &args.write_budgets {
                write_budgets(path, &rows)?;
            }
            if !ok {
                eprintln!(
                    "instruction counts above budget: a hot-path regression, or raise the budget in mcu/instruction_budgets.txt with the reason in the commit"
                );
            }
            Ok(ok)
        }
        "e2e" => {
            let interval_ms = args.interval_ms.unwrap_or(2_000);
            let outcome = e2e::scenario(&elf()?, &work_dir(), interval_ms)?;
            println!(
                "end to end on {} with virtio-net, smoltcp and the CDN stand-in (poll interval {interval_ms} ms, heap {}):",
                Machine::Riscv32.describe(),
                kib(e2e::HEAP)
            );
            for line in &outcome.transcript {
                println!("{line}");
            }
            println!(
                "{} deviations; QEMU {:.1} s",
                outcome.problems.len(),
                outcome.seconds
            );
            for problem in &outcome.problems {
                eprintln!("e2e: {problem}");
            }
            Ok(outcome.problems.is_empty())
        }
        "e2e-size" => {
            let heap = args.heap.unwrap_or(e2e::HEAP);
            let (passed, failed) = if let Some(bytes) = args.config_bytes {
                let pool = e2e::setting_pool(&data_dir()?)?;
                let outcome = e2e::try_size(&elf()?, &work_dir(), &pool, bytes, heap)?;
                if outcome.ok {
                    (Some(outcome), None)
                } else {
                    (None, Some(outcome))
                }
            } else {
                e2e::largest(&elf()?, &work_dir(), &data_dir()?, heap)?
            };
            for (verdict, outcome) in [("passes", &passed), ("fails", &failed)] {
                if let Some(outcome) = outcome {
                    println!(
                        "{verdict}: a config of {} B fetched, stored and switched to in a {heap} B heap{}",
                        outcome.config_bytes,
                        if outcome.ok {
                            String::new()
                        } else {
                            format!(" ({})", outcome.why)
                        }
                    );
                    for line in &outcome.lines {
                        println!("  {line}");
                    }
                }
            }
            Ok(args.config_bytes.is_none() || failed.is_none())
        }
        other => Err(format!("unknown command {other}")),
    }
}

/// Budgets 3% above the measured counts.
fn write_budgets(path: &Path, rows: &[icount::Row]) -> Result<(), String> {
    let mut text = String::from(
        "# Instruction budgets of mcu-harness icount (riscv32imc, -icount shift=0):\n\
         # 3% above the counts measured with Debian's rustc-web; `<budget> <id>` per line.\n",
    );
    for row in rows {
        text.push_str(&format!(
            "{} {}\n",
            row.instructions * 103 / 100 + 1,
            row.id
        ));
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("mcu-harness: {error}");
            ExitCode::FAILURE
        }
    }
}
