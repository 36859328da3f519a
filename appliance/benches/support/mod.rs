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
