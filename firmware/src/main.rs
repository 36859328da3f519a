//! The icsfwd-core firmware image for a Cortex-M4 (QEMU `mps2-an386`).
//!
//! Runs every case of [`icsfwd_firmware::cases::CASES`], prints one line per case and a
//! summary through semihosting, measures how much of the stack the run used, and exits through
//! semihosting with status 0 only when every case passed. A panic or a hard fault is reported
//! and exits non-zero too, so QEMU never hangs on a failure (a hang is caught by `run.sh`'s
//! timeout).
//!
//! The only `unsafe` is reading the stack region word by word for the high-water mark, and
//! the hard-fault handler's signature, which cortex-m-rt requires to be `unsafe fn`.
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m::interrupt::Mutex;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use icsfwd_firmware::bench::Bench;
use icsfwd_firmware::cases::{CASES, Case, Outcome, run_all};

/// Exits QEMU with a failure status; never returns.
fn exit_failure() -> ! {
    debug::exit(debug::EXIT_FAILURE);
    // Only reached without a semihosting host (on real hardware): park the core.
    loop {
        cortex_m::asm::wfi();
    }
}

/// The workspace of every case (a record slot and a shared work area). A const-initialised
/// static of zeros: it lives in .bss and is never built on the stack (as `singleton!` would).
static BENCH: Mutex<RefCell<Bench>> = Mutex::new(RefCell::new(Bench::new()));

/// A byte as `0x41`, or `end` where the output or the expectation had ended.
struct ByteOrEnd(Option<u8>);

impl core::fmt::Display for ByteOrEnd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(b) => write!(f, "{b:#04x}"),
            None => f.write_str("end"),
        }
    }
}

/// Prints one case's outcome: `ok <name> <n> bytes` or `FAIL <name> ...`.
fn report(case: &Case, outcome: &Outcome) {
    match outcome {
        Outcome::Pass { len } => hprintln!("ok {} {} bytes", case.name, len),
        Outcome::Mismatch {
            at,
            got,
            want,
            len,
            expected_len,
        } => hprintln!(
            "FAIL {} at byte {} (got {}, expected {}; {} bytes, expected {})",
            case.name,
            at,
            ByteOrEnd(*got),
            ByteOrEnd(*want),
            len,
            expected_len
        ),
        Outcome::DigestMismatch {
            len,
            crc32c,
            expected_len,
        } => hprintln!(
            "FAIL {} digest differs ({} bytes, CRC-32C {:#010x}; expected {} bytes)",
            case.name,
            len,
            crc32c,
            expected_len
        ),
        Outcome::LengthDisagrees { reported, written } => hprintln!(
            "FAIL {} reported {} bytes but wrote {}",
            case.name,
            reported,
            written
        ),
        Outcome::Failed(failure) => hprintln!("FAIL {}: {}", case.name, failure),
    }
}

#[entry]
fn main() -> ! {
    hprintln!("icsfwd-core firmware: {} cases", CASES.len());
    // No interrupt handler touches the bench; the critical section only proves exclusive
    // access without `unsafe`.
    let summary = cortex_m::interrupt::free(|cs| {
        let Ok(mut bench) = BENCH.borrow(cs).try_borrow_mut() else {
            hprintln!("FAIL setup: bench already borrowed");
            exit_failure();
        };

        run_all(CASES, &mut bench, report)
    });

    let stack = memory::stack_high_water();
    let layout = memory::Layout::get();
    hprintln!(
        "stack high-water: {} bytes of {} reserved",
        stack,
        layout.stack
    );
    hprintln!(
        "ram: {} bytes static (data+bss) + {} bytes stack reserved = {} of {} bytes",
        layout.statics,
        layout.stack,
        layout.statics + layout.stack,
        layout.statics_region + layout.stack
    );
    hprintln!(
        "firmware: {} passed, {} failed",
        summary.passed,
        summary.failed
    );

    if summary.failed == 0 {
        debug::exit(debug::EXIT_SUCCESS);
        loop {
            cortex_m::asm::wfi();
        }
    }
    exit_failure()
}

/// Where the linker put RAM, and how much of the stack has been used.
mod memory {
    // Symbols of cortex-m-rt's link.x and our memory.x; only their addresses are used.
    unsafe extern "C" {
        /// Top of the stack region (the initial stack pointer).
        static _stack_start: u32;
        /// Bottom of the stack region.
        static _stack_end: u32;
        /// Start of the statics region (.data, then .bss and .uninit).
        static _ram_start: u32;
        /// End of the statics region's allocated part.
        static __sheap: u32;
        /// End of the statics region.
        static _ram_end: u32;
    }

    /// The RAM figures of this image, in bytes.
    pub struct Layout {
        /// Bytes reserved for the stack.
        pub stack: usize,
        /// Bytes of statics (.data + .bss + .uninit).
        pub statics: usize,
        /// Bytes of the region the statics may use.
        pub statics_region: usize,
    }

    impl Layout {
        pub fn get() -> Layout {
            let (bottom, top) = stack_region();
            let ram_start = (&raw const _ram_start) as usize;
            Layout {
                stack: top - bottom,
                statics: ((&raw const __sheap) as usize).saturating_sub(ram_start),
                statics_region: ((&raw const _ram_end) as usize).saturating_sub(ram_start),
            }
        }
    }

    fn stack_region() -> (usize, usize) {
        (
            (&raw const _stack_end) as usize,
            (&raw const _stack_start) as usize,
        )
    }

    /// Bytes of the stack ever used: cortex-m-rt painted the whole region with
    /// `STACK_PAINT_VALUE` before `main`, and the stack grows down, so the lowest word that is
    /// no longer paint marks the deepest point reached.
    pub fn stack_high_water() -> usize {
        let (bottom, top) = stack_region();
        let mut addr = bottom;
        while addr < top {
            // SAFETY: [bottom, top) is the stack region memory.x reserves: mapped RAM, 4-byte
            // aligned (link.x asserts it), initialised by the paint loop before `main`. Words
            // above the current stack pointer belong to live frames; reading them through a
            // raw pointer (never a reference) while no one writes them concurrently is sound.
            let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
            if word != cortex_m_rt::STACK_PAINT_VALUE {
                break;
            }
            addr += 4;
        }
        top - addr
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    // SAFETY: cortex-m-rt requires this handler to be `unsafe fn`; nothing in it is unsafe.
    // The registers that locate the fault, in hex: `Debug` of the whole frame would link
    // core's debug-builder machinery for this one line.
    hprintln!(
        "FAIL hard fault: pc={:#010x} lr={:#010x} xpsr={:#010x}",
        frame.pc(),
        frame.lr(),
        frame.xpsr()
    );
    exit_failure()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Only the location: printing the message would link the formatting code of every panic
    // message in core and the harness (kilobytes of flash), and the location is enough to find
    // the `panic!` that fired.
    match info.location() {
        Some(at) => hprintln!("FAIL panic at {}:{}", at.file(), at.line()),
        None => hprintln!("FAIL panic"),
    }
    exit_failure()
}
