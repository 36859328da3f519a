//! What the benchmark binaries (`e2e`, `peer`, `spool`) share: numbers from the environment,
//! the scratch directory under `target/`, and a process's CPU time and peak RSS from `/proc`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark: a failed step aborts the run with its cause"
)]
#![allow(dead_code, reason = "each bench uses part of it")]

use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// The whole number in `name`, or `default` when unset; a value that is not one aborts.
pub fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a whole number")),
        Err(_) => default,
    }
}

/// The directory named by the variable `var`, else `target/<name>` (the bench runs as
/// `target/release/deps/<bench>-HASH`).
pub fn scratch_dir(var: &str, name: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        exe.ancestors()
            .nth(3)
            .map_or_else(|| PathBuf::from(name), |target| target.join(name))
    })
}

/// `ICSFWD_BENCH_DIR`, else `target/icsfwd-bench`.
pub fn bench_dir() -> PathBuf {
    scratch_dir("ICSFWD_BENCH_DIR", "icsfwd-bench")
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 if it cannot be asked).
pub fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Peak RSS (`VmHWM`) of process `pid`, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `utime + stime` of all the threads of process `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After the command name (which ends at the last ')'), utime and stime are fields 14 and
    // 15 of proc(5), indexes 11 and 12 of the rest.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// What `/proc/<pid>/io` says the process caused to be written to storage, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcIo {
    /// `write_bytes`: counted when the process dirties a page of the page cache (a whole page,
    /// or a whole large folio, however few bytes of it changed), or submits direct I/O.
    pub write_bytes: u64,
    /// `cancelled_write_bytes`: dirty pages dropped before writeback (a file truncated or
    /// removed while dirty).
    pub cancelled_write_bytes: u64,
}

/// `/proc/<pid>/io` of process `pid` (all of its threads).
pub fn proc_io(pid: u32) -> ProcIo {
    let text = fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    ProcIo {
        write_bytes: field("write_bytes:"),
        cancelled_write_bytes: field("cancelled_write_bytes:"),
    }
}

/// The file system holding `path`, as "<type> on <source> (<mount point>)" from
/// `/proc/self/mountinfo` (the longest mount point that contains it).
pub fn file_system(path: &std::path::Path) -> String {
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut best: Option<(usize, String)> = None;
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let Some(mount_point) = left.split(' ').nth(4) else {
            continue;
        };
        let mut right = right.split(' ');
        let (fs_type, source) = (right.next().unwrap_or("?"), right.next().unwrap_or("?"));
        if path.starts_with(mount_point)
            && best
                .as_ref()
                .is_none_or(|(len, _)| mount_point.len() >= *len)
        {
            best = Some((
                mount_point.len(),
                format!("{fs_type} on {source} ({mount_point})"),
            ));
        }
    }
    best.map_or_else(|| "unknown".to_owned(), |(_, text)| text)
}

/// Bytes written to the block device `dev` (a name under `/sys/block`, e.g. `loop0`) since it
/// appeared: sectors written (field 7 of its `stat`) × 512. The whole device's writes, the
/// file system's journal included, whoever caused them.
pub fn device_bytes_written(dev: &str) -> u64 {
    let stat = fs::read_to_string(format!("/sys/block/{dev}/stat"))
        .unwrap_or_else(|e| panic!("/sys/block/{dev}/stat: {e}"));
    let sectors: u64 = stat
        .split_whitespace()
        .nth(6)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("/sys/block/{dev}/stat has no sectors-written field"));
    sectors * 512
}

/// The machine's load averages (`/proc/loadavg`: 1, 5 and 15 minutes).
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
