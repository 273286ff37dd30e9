//! The embedded client end to end on an emulated device: the `e2e`
//! firmware on riscv32 `virt` with a virtio-net card on QEMU's user-mode
//! network, fetching from the CDN stand-in on a loopback port (the guest
//! reaches the host's 127.0.0.1 as 10.0.2.2, and nothing else), with its
//! flash in a host file.
//!
//! [`scenario`]: a cold boot with empty flash, a first fetch (200 with an
//! ETag), a config change the next due poll picks up, polls answered 304
//! that write nothing, then a reboot with the stand-in down that serves the
//! stored config before any fetch. [`largest`]: the largest config the
//! client fetches, stores and switches to within a heap, by bisection.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use configcat_cdn_stand_in::CdnStandIn;
use serde_json::{Map, Value, json};

use crate::qemu::Machine;

const SDK_KEY: &str = "configcat-sdk-1/E2E-DEVICE-0123456789a/1234567890123456789012";
const FLASH: &str = "e2e-flash.bin";
/// The heap of the scenario: a 64 KiB-heap part.
pub(crate) const HEAP: u32 = 64 * 1024;
/// How long one QEMU run may take before it counts as hung.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// One boot of the device: what the harness tells it, what it printed.
struct Boot {
    lines: Vec<String>,
    status: Option<i32>,
    stderr: String,
}

impl Boot {
    fn line(&self, pattern: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| l.contains(pattern))
            .map(String::as_str)
    }

    fn poll(&self, n: u32) -> Option<&str> {
        self.line(&format!("poll {n}: "))
    }

    /// `name=value` from the `stats:` line.
    fn stat(&self, name: &str) -> Option<u64> {
        let stats = self.line("stats: ")?;
        stats
            .split_whitespace()
            .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
    }

    /// The device's uptime at poll `n`.
    fn poll_ms(&self, n: u32) -> Option<u64> {
        self.poll(n)?.split_whitespace().next()?.parse().ok()
    }
}

/// The device's settings for one boot (`e2e-boot.txt`).
struct Settings<'a> {
    base_url: String,
    interval_ms: u64,
    polls: u32,
    heap: u32,
    max_body: usize,
    flags: &'a [&'a str],
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Boots the firmware once in `dir`; `on_line` sees each line the device
/// prints as it prints it (the harness acts on the CDN between polls).
fn boot(
    elf: &Path,
    dir: &Path,
    settings: &Settings<'_>,
    seed: u64,
    mut on_line: impl FnMut(&str),
) -> Result<Boot, String> {
    let mut text = format!(
        "sdk_key={SDK_KEY}\nbase_url={}\nunix_ms={}\ninterval_ms={}\npolls={}\nheap={}\nmax_body={}\nseed={seed}\nuser=device-0042\nemail=ops@example.com\n",
        settings.base_url,
        unix_ms(),
        settings.interval_ms,
        settings.polls,
        settings.heap,
        settings.max_body,
    );
    for flag in settings.flags {
        text.push_str(&format!("flag={flag}\n"));
    }
    std::fs::write(dir.join("e2e-boot.txt"), text).map_err(|e| e.to_string())?;
    let mut child: Child = Machine::Riscv32
        .command(false)
        // User-mode networking: no host privileges; 10.0.2.2 is the host's loopback.
        .args([
            "-netdev",
            "user,id=n0,ipv6=off",
            "-device",
            "virtio-net-device,netdev=n0",
            "-kernel",
        ])
        .arg(elf)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start QEMU: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (send, receive) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let deadline = Instant::now() + RUN_LIMIT;
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match receive.recv_timeout(left) {
            Ok(line) => {
                on_line(&line);
                lines.push(line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the device ran longer than {} s; it printed:\n{}",
                    RUN_LIMIT.as_secs(),
                    lines.join("\n")
                ));
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?.code();
    let _ = reader.join();
    let stderr = errors.join().unwrap_or_default();
    Ok(Boot {
        lines,
        status,
        stderr,
    })
}

// ---- the scenario ------------------------------------------------------------

/// The config the scenario serves, revision 1 or 2.
fn device_config(revision: u8) -> String {
    let (led, blink, greeting) = if revision == 1 {
        (false, 500, "hello")
    } else {
        (true, 250, "hello, colleague")
    };
    json!({
        "p": {"s": "e2e-salt"},
        "f": {
            "ledEnabled": {"t": 0, "v": {"b": led}, "i": format!("led-{revision}")},
            "blinkMs": {"t": 2, "v": {"i": blink}, "i": format!("blink-{revision}")},
            "greeting": {
                "t": 1, "v": {"s": "hi"}, "i": "greeting-default",
                "r": [{
                    "c": [{"u": {"a": "Email", "c": 2, "l": ["@example.com"]}}],
                    "s": {"v": {"s": greeting}, "i": format!("greeting-{revision}")}
                }]
            }
        }
    })
    .to_string()
}

const FLAGS: [&str; 3] = ["ledEnabled", "blinkMs", "greeting"];
const FLAGS_1: &str = "ledEnabled=false blinkMs=500 greeting=hello";
const FLAGS_2: &str = "ledEnabled=true blinkMs=250 greeting=hello, colleague";

/// Collects what deviates from the scenario.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn expect(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }

    fn line(&mut self, boot: &Boot, pattern: &str, what: &str) {
        self.expect(
            boot.line(pattern).is_some(),
            format!("{what}: no line with `{pattern}`"),
        );
    }

    fn poll(&mut self, boot: &Boot, n: u32, parts: &[&str]) {
        match boot.poll(n) {
            None => self.0.push(format!("poll {n} did not happen")),
            Some(line) => {
                for part in parts {
                    self.expect(
                        line.contains(part),
                        format!("poll {n}: `{part}` missing in `{line}`"),
                    );
                }
            }
        }
    }
}

/// What the scenario measured, for the report.
pub(crate) struct Outcome {
    /// Deviations from the scenario; empty when it passed.
    pub(crate) problems: Vec<String>,
    /// The transcript: device and host lines in order.
    pub(crate) transcript: Vec<String>,
    /// Wall-clock seconds of the two QEMU runs.
    pub(crate) seconds: f64,
}

fn work_dir(work: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = work.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Runs the scenario: two boots of `elf` (the `e2e` firmware).
///
/// # Errors
/// QEMU or the stand-in could not be started, or a run hung.
pub(crate) fn scenario(elf: &Path, work: &Path, interval_ms: u64) -> Result<Outcome, String> {
    let elf = std::fs::canonicalize(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let dir = work_dir(work, "e2e")?;
    let started = Instant::now();
    let mut checks = Checks::default();
    let mut transcript = Vec::new();
    let host = |transcript: &mut Vec<String>, text: String| {
        transcript.push(format!("host    | {text}"));
    };

    let cdn = CdnStandIn::start().map_err(|e| format!("CDN stand-in: {e}"))?;
    let port = cdn
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let etag_1 = cdn.set_config(&device_config(1));
    let config_2 = device_config(2);
    host(
        &mut transcript,
        format!(
            "CDN stand-in on {} (the device's http://10.0.2.2:{port}) serves revision 1, ETag {etag_1}; flash file empty",
            cdn.base_url()
        ),
    );
    host(&mut transcript, "boot 1 (cold, empty flash)".to_owned());
    let settings = Settings {
        base_url: format!("http://10.0.2.2:{port}"),
        interval_ms,
        polls: 4,
        heap: HEAP,
        max_body: 32 * 1024,
        flags: &FLAGS,
    };
    let mut etag_2 = String::new();
    let first = boot(&elf, &dir, &settings, 1, |line| {
        transcript.push(format!("device  | {line}"));
        if line.contains("poll 1: 200") && etag_2.is_empty() {
            etag_2 = cdn.set_config(&config_2);
            transcript.push(format!(
                "host    | the stand-in now serves revision 2, ETag {etag_2}"
            ));
        }
    })?;
    checks.expect(
        first.status == Some(0),
        format!("boot 1 exited with {:?}: {}", first.status, first.stderr),
    );
    checks.line(&first, "flash holds 0 B", "boot 1");
    checks.line(&first, "before any fetch: no config", "boot 1");
    checks.poll(
        &first,
        1,
        &[
            "200 new config",
            "flash write #1",
            &format!("ETag {etag_1}"),
            FLAGS_1,
        ],
    );
    checks.poll(
        &first,
        2,
        &[
            "200 new config",
            "flash write #2",
            &format!("ETag {etag_2}"),
            FLAGS_2,
        ],
    );
    checks.poll(
        &first,
        3,
        &["304 not modified", "no flash write (2 so far)", FLAGS_2],
    );
    checks.poll(
        &first,
        4,
        &["304 not modified", "no flash write (2 so far)", FLAGS_2],
    );
    checks.expect(
        first.stat("flash_writes") == Some(2),
        "boot 1: not exactly 2 flash writes",
    );
    // Polls come when they are due on the device's clock: one interval apart.
    for n in 1..4 {
        if let (Some(a), Some(b)) = (first.poll_ms(n), first.poll_ms(n + 1)) {
            let gap = b.saturating_sub(a);
            checks.expect(
                (interval_ms..interval_ms + 1_000).contains(&gap),
                format!(
                    "polls {n} and {} are {gap} ms apart, not one interval ({interval_ms} ms)",
                    n + 1
                ),
            );
        }
    }
    let requests = cdn.requests();
    let if_none_match: Vec<Option<String>> = requests
        .iter()
        .map(|r| r.header("if-none-match").map(str::to_owned))
        .collect();
    checks.expect(
        if_none_match
            == [
                None,
                Some(etag_1.clone()),
                Some(etag_2.clone()),
                Some(etag_2.clone()),
            ],
        format!("the stand-in saw If-None-Match {if_none_match:?}"),
    );
    checks.expect(
        requests.iter().all(|r| {
            r.header("x-configcat-useragent")
                .is_some_and(|ua| ua.starts_with("ConfigCat-"))
        }),
        "a request without the SDK's user agent",
    );
    let flash = std::fs::read(dir.join(FLASH)).unwrap_or_default();
    let expected_tail = format!("\n{etag_2}\n{config_2}");
    checks.expect(
        String::from_utf8_lossy(&flash).ends_with(&expected_tail),
        "the flash file does not hold revision 2's payload",
    );
    host(
        &mut transcript,
        format!(
            "the stand-in saw {} requests (If-None-Match: {}); the flash file holds {} B",
            requests.len(),
            if_none_match
                .iter()
                .map(|v| v.as_deref().unwrap_or("-"))
                .collect::<Vec<_>>()
                .join(", "),
            flash.len()
        ),
    );

    drop(cdn);
    host(
        &mut transcript,
        format!(
            "the stand-in is down (nothing listens on port {port}); boot 2 from the same flash file"
        ),
    );
    let settings = Settings {
        polls: 1,
        ..settings
    };
    let second = boot(&elf, &dir, &settings, 2, |line| {
        transcript.push(format!("device  | {line}"));
    })?;
    checks.expect(
        second.status == Some(0),
        format!("boot 2 exited with {:?}: {}", second.status, second.stderr),
    );
    checks.line(&second, &format!("flash holds {} B", flash.len()), "boot 2");
    checks.line(
        &second,
        &format!("before any fetch: {FLAGS_2}"),
        "boot 2 (served from flash)",
    );
    checks.poll(
        &second,
        1,
        &["failed", "no flash write (0 so far)", FLAGS_2],
    );
    checks.expect(
        std::fs::read(dir.join(FLASH)).unwrap_or_default() == flash,
        "boot 2 changed the flash file",
    );
    for (boot, n) in [(&first, 1), (&second, 2)] {
        let stat = |name| boot.stat(name).unwrap_or(0);
        host(
            &mut transcript,
            format!(
                "boot {n}: heap peak {} B of {} B, stack high-water {} B; TCP {} connections, {} B sent, {} B received; Ethernet {} frames / {} B out, {} frames / {} B in",
                stat("heap_peak"),
                stat("heap"),
                stat("stack_high_water"),
                stat("tcp_connections"),
                stat("tcp_sent"),
                stat("tcp_received"),
                stat("frames_sent"),
                stat("frame_bytes_sent"),
                stat("frames_received"),
                stat("frame_bytes_received"),
            ),
        );
    }
    if std::env::var_os("MCU_HARNESS_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Outcome {
        problems: checks.0,
        transcript,
        seconds: started.elapsed().as_secs_f64(),
    })
}

// ---- the largest config ------------------------------------------------------------

/// Settings of ConfigCat's conformance configs, to build configs of any
/// size from: those without prerequisite-flag or segment conditions (a
/// renamed copy would point at the original), compact, as the CDN sends them.
pub(crate) fn setting_pool(data: &Path) -> Result<Vec<(String, Value)>, String> {
    let mut pool = Vec::new();
    for name in [
        "matrix_comparators_v6.json",
        "matrix_basic.json",
        "matrix_semantic_2.json",
    ] {
        let path = data.join("configs").join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let config: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        let settings = config
            .get("f")
            .and_then(Value::as_object)
            .ok_or("no settings")?;
        for (key, setting) in settings {
            if user_conditions_only(setting) {
                pool.push((key.clone(), setting.clone()));
            }
        }
    }
    Ok(pool)
}

/// Whether every condition of the setting's rules is a user condition.
fn user_conditions_only(setting: &Value) -> bool {
    let rules = setting.get("r").and_then(Value::as_array);
    rules.into_iter().flatten().all(|rule| {
        let conditions = rule.get("c").and_then(Value::as_array);
        conditions
            .into_iter()
            .flatten()
            .all(|condition| condition.get("u").is_some())
    })
}

/// A config of about `bytes` bytes of compact JSON: settings of the pool,
/// renamed per round, and `e2eRevision` = `revision`.
pub(crate) fn sized_config(pool: &[(String, Value)], bytes: usize, revision: &str) -> String {
    let mut settings = Map::new();
    settings.insert(
        "e2eRevision".to_owned(),
        json!({"t": 1, "v": {"s": revision}, "i": format!("rev-{revision}")}),
    );
    let mut size = 64;
    for round in 0.. {
        let before = size;
        for (key, setting) in pool {
            let entry = setting.to_string().len() + key.len() + 8;
            if size + entry <= bytes {
                settings.insert(format!("{key}_{round}"), setting.clone());
                size += entry;
            }
        }
        if size == before {
            break;
        }
    }
    json!({"p": {"s": "e2e-salt"}, "f": settings}).to_string()
}

/// One try at the largest-config run: boots with empty flash, fetches
/// config A, switches to config B (same size), confirms with a 304.
pub(crate) struct SizeTry {
    /// Whether every step went as expected.
    pub(crate) ok: bool,
    /// The config JSON's size.
    pub(crate) config_bytes: usize,
    /// The device's figures and the peak's blocks (its lines).
    pub(crate) lines: Vec<String>,
    /// Why it failed, if it did.
    pub(crate) why: String,
}

/// Runs one size.
///
/// # Errors
/// QEMU or the stand-in could not be started.
pub(crate) fn try_size(
    elf: &Path,
    work: &Path,
    pool: &[(String, Value)],
    bytes: usize,
    heap: u32,
) -> Result<SizeTry, String> {
    let elf = std::fs::canonicalize(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let dir = work_dir(work, "e2e-size")?;
    let config_a = sized_config(pool, bytes, "A");
    let config_b = sized_config(pool, bytes, "B");
    let cdn = CdnStandIn::start().map_err(|e| format!("CDN stand-in: {e}"))?;
    let port = cdn
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    cdn.set_config(&config_a);
    let settings = Settings {
        base_url: format!("http://10.0.2.2:{port}"),
        interval_ms: 300,
        polls: 3,
        heap,
        max_body: 256 * 1024,
        flags: &["e2eRevision"],
    };
    let mut switched = false;
    let run = boot(&elf, &dir, &settings, 3, |line| {
        if line.contains("poll 1: 200") && !switched {
            cdn.set_config(&config_b);
            switched = true;
        }
    })?;
    let mut checks = Checks::default();
    checks.expect(
        run.status == Some(0),
        format!("exit {:?}: {}", run.status, run.stderr.trim()),
    );
    checks.poll(
        &run,
        1,
        &["200 new config", "flash write #1", "e2eRevision=A"],
    );
    checks.poll(
        &run,
        2,
        &["200 new config", "flash write #2", "e2eRevision=B"],
    );
    checks.poll(&run, 3, &["304 not modified", "e2eRevision=B"]);
    let flash = std::fs::read(dir.join(FLASH)).unwrap_or_default();
    checks.expect(
        String::from_utf8_lossy(&flash).ends_with(&config_b),
        "the flash file does not hold config B",
    );
    if std::env::var_os("MCU_HARNESS_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(SizeTry {
        ok: checks.0.is_empty(),
        config_bytes: config_a.len().max(config_b.len()),
        lines: run.lines,
        why: checks.0.first().cloned().unwrap_or_default(),
    })
}

/// The largest config (to 256 bytes) that passes [`try_size`] in `heap`:
/// (the largest try that passed, the smallest that failed).
///
/// # Errors
/// QEMU or the stand-in could not be started.
pub(crate) fn largest(
    elf: &Path,
    work: &Path,
    data: &Path,
    heap: u32,
) -> Result<(Option<SizeTry>, Option<SizeTry>), String> {
    let pool = setting_pool(data)?;
    let (mut low, mut high) = (2 * 1024_usize, 64 * 1024_usize);
    let (mut passed, mut failed) = (None, None);
    while high - low > 256 {
        let bytes = (low + high) / 2;
        let outcome = try_size(elf, work, &pool, bytes, heap)?;
        println!(
            "config of {} B in a {heap} B heap: {}{}",
            outcome.config_bytes,
            if outcome.ok { "passes" } else { "fails: " },
            outcome.why
        );
        if outcome.ok {
            low = bytes;
            passed = Some(outcome);
        } else {
            high = bytes;
            failed = Some(outcome);
        }
    }
    Ok((passed, failed))
}
