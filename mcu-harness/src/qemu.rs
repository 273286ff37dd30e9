//! The emulated machines and one run of the firmware on them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A QEMU machine the firmware runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Machine {
    /// riscv32 `virt` with `-cpu lowrisc-ibex`: RV32IMC, no atomics, no FPU.
    Riscv32,
    /// `mps2-an385`, a Cortex-M3 (runs the thumbv6m build).
    Mps2An385,
    /// `mps2-an386`, a Cortex-M4 (runs the thumbv7em build).
    Mps2An386,
}

impl Machine {
    /// Reads `riscv32`, `mps2-an385` or `mps2-an386`.
    ///
    /// # Errors
    /// Another name.
    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        match name {
            "riscv32" => Ok(Self::Riscv32),
            "mps2-an385" => Ok(Self::Mps2An385),
            "mps2-an386" => Ok(Self::Mps2An386),
            other => Err(format!(
                "unknown machine {other} (riscv32, mps2-an385, mps2-an386)"
            )),
        }
    }

    /// The machine's name as QEMU spells it, with the CPU where it is chosen.
    #[must_use]
    pub(crate) const fn describe(self) -> &'static str {
        match self {
            Self::Riscv32 => "riscv32 virt, cpu lowrisc-ibex (RV32IMC)",
            Self::Mps2An385 => "mps2-an385 (Cortex-M3), thumbv6m code",
            Self::Mps2An386 => "mps2-an386 (Cortex-M4), thumbv7em code",
        }
    }

    pub(crate) fn command(self, icount: bool) -> Command {
        let mut command = match self {
            Self::Riscv32 => {
                let mut c = Command::new("qemu-system-riscv32");
                c.args(["-M", "virt", "-cpu", "lowrisc-ibex", "-bios", "none"]);
                c
            }
            Self::Mps2An385 | Self::Mps2An386 => {
                let mut c = Command::new("qemu-system-arm");
                c.args([
                    "-M",
                    if self == Self::Mps2An385 {
                        "mps2-an385"
                    } else {
                        "mps2-an386"
                    },
                ]);
                c
            }
        };
        if icount {
            command.args(["-icount", "shift=0"]);
        }
        command.args([
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-no-reboot",
            "-semihosting-config",
            "enable=on,target=native",
        ]);
        command
    }
}

/// What a run left behind.
#[derive(Debug)]
pub(crate) struct Run {
    /// The firmware's answers.
    pub(crate) responses: Vec<u8>,
    /// Its exit status (0: every request served).
    pub(crate) status: Option<i32>,
    /// What it printed (panics and faults go to stderr).
    pub(crate) output: String,
    /// Wall-clock time of the run.
    pub(crate) elapsed: Duration,
}

/// Runs `elf` on `machine` with `requests`, in a directory of its own under
/// `work` (semihosting opens the files relative to QEMU's directory).
///
/// # Errors
/// When QEMU cannot be started or the files cannot be written or read.
pub(crate) fn run(
    machine: Machine,
    elf: &Path,
    requests: &[u8],
    work: &Path,
    icount: bool,
) -> Result<Run, String> {
    let dir: PathBuf = work.join(format!("{machine:?}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let request_path = dir.join("mcu-requests.bin");
    let response_path = dir.join("mcu-responses.bin");
    std::fs::write(&request_path, requests).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&response_path);
    let elf = std::fs::canonicalize(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let start = Instant::now();
    let output = machine
        .command(icount)
        .arg("-kernel")
        .arg(&elf)
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("cannot start QEMU for {}: {e}", machine.describe()))?;
    let elapsed = start.elapsed();
    let responses = std::fs::read(&response_path).unwrap_or_default();
    // MCU_HARNESS_KEEP=1 keeps the request and answer files for a look.
    if std::env::var_os("MCU_HARNESS_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Run {
        responses,
        status: output.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        elapsed,
    })
}
