//! One malloc arena for the service: glibc gives each thread that allocates while another
//! holds the main arena an arena of its own (up to 8 per core), and every arena keeps its
//! freed memory. With a delivery worker per destination, the ingest connections and the spool
//! writer, those arenas were about 2.9 MiB of the service's peak RSS with four HEC
//! destinations, and 1.9 MiB of it went with one arena (`docs/BENCHMARKS.md`, lean
//! destinations). Small allocations stay in each thread's cache (glibc's tcache) either way,
//! so the shared arena's lock is taken only for larger or uncached ones.
//!
//! What it is: [`limit`], called by `icsfwd run` before the service starts a thread. It is
//! the second and last piece of unsafe code of the appliance crate (the other is
//! `destination/syslog/outq.rs`): `mallopt(3)` has no safe wrapper in any crate. On a C
//! library other than glibc (musl builds) it does nothing.
//!
//! What it guarantees: the number of arenas is capped at [`ARENAS`] for the rest of the
//! process, or — if glibc refuses the setting — nothing changes and the service runs as
//! before (the cap saves memory; it changes no behaviour).
#![allow(
    unsafe_code,
    reason = "mallopt(3), which no crate wraps safely; see the module docs"
)]

/// The arenas the service may use: one, the main arena.
pub(crate) const ARENAS: i32 = 1;

/// Caps glibc's malloc arenas at [`ARENAS`]; whether glibc took the setting (always `false`
/// without glibc).
pub(crate) fn limit() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt(M_ARENA_MAX, n) only sets a limit inside glibc's allocator; it takes
        // two integers, reads and writes no memory of ours, and is documented as safe to call
        // at any time (mallopt(3): the limit applies to arenas created from then on). It is
        // called before the service's threads start, so no arena beyond the main one exists.
        let taken = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        taken == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_the_limit() {
        assert!(super::limit());
    }
}
