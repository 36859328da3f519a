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
use cortex_m_semihosting::{debug, hio};
use icsfwd_firmware::bench::Bench;
use icsfwd_firmware::cases::{CASES, Case, Outcome, run_all};
use icsfwd_firmware::line::{Line, hex32};

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

/// Writes one line to the host's stdout through semihosting (a line that cannot be written
/// is lost: there is nowhere else to report it).
fn emit(line: &mut Line) {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(line.as_bytes());
    }
}

/// Appends a byte as `0x41`, or `end` where the output or the expectation had ended.
fn byte_or_end(line: &mut Line, byte: Option<u8>) {
    match byte {
        Some(b) => {
            let [_, _, _, _, _, _, high, low, ..] = hex32(u32::from(b));
            line.bytes(&[b'0', b'x', high, low]);
        }
        None => {
            line.str("end");
        }
    }
}

/// Prints the outcome of one case: `ok <name> <n> bytes` or a `FAIL` line saying why.
fn report(case: &Case, outcome: &Outcome) {
    let mut line = Line::new();
    match outcome {
        Outcome::Pass { len } => {
            line.str("ok ")
                .str(case.name)
                .str(" ")
                .decimal(*len as u64)
                .str(" bytes");
        }
        Outcome::Mismatch {
            at,
            got,
            want,
            len,
            expected_len,
        } => {
            line.str("FAIL ")
                .str(case.name)
                .str(" at byte ")
                .decimal(*at as u64);
            line.str(" (got ");
            byte_or_end(&mut line, *got);
            line.str(", expected ");
            byte_or_end(&mut line, *want);
            line.str("; ").decimal(*len as u64).str(" bytes, expected ");
            line.decimal(*expected_len as u64).str(")");
        }
        Outcome::DigestMismatch {
            len,
            crc32c,
            expected_len,
        } => {
            line.str("FAIL ").str(case.name).str(" digest differs (");
            line.decimal(*len as u64)
                .str(" bytes, CRC-32C ")
                .hex32(*crc32c);
            line.str("; expected ")
                .decimal(*expected_len as u64)
                .str(" bytes)");
        }
        Outcome::LengthDisagrees { reported, written } => {
            line.str("FAIL ").str(case.name).str(" reported ");
            line.decimal(*reported as u64)
                .str(" bytes but wrote ")
                .decimal(*written as u64);
        }
        Outcome::Failed(failure) => {
            line.str("FAIL ")
                .str(case.name)
                .str(": ")
                .str(failure.what());
        }
    }
    emit(&mut line);
}

#[entry]
fn main() -> ! {
    let mut line = Line::new();
    line.str("icsfwd-core firmware: ")
        .decimal(CASES.len() as u64)
        .str(" cases");
    emit(&mut line);
    // No interrupt handler touches the bench; the critical section only proves exclusive
    // access without `unsafe`.
    let summary = cortex_m::interrupt::free(|cs| {
        let Ok(mut bench) = BENCH.borrow(cs).try_borrow_mut() else {
            emit(Line::new().str("FAIL setup: bench already borrowed"));
            exit_failure();
        };

        run_all(CASES, &mut bench, report)
    });

    let stack = memory::stack_high_water();
    let layout = memory::Layout::get();
    let mut line = Line::new();
    line.str("stack high-water: ").decimal(stack as u64);
    line.str(" bytes of ")
        .decimal(layout.stack as u64)
        .str(" reserved");
    emit(&mut line);
    let mut line = Line::new();
    line.str("ram: ")
        .decimal(layout.statics as u64)
        .str(" bytes static (data+bss) + ");
    line.decimal(layout.stack as u64)
        .str(" bytes stack reserved = ");
    line.decimal((layout.statics + layout.stack) as u64)
        .str(" of ");
    line.decimal((layout.statics_region + layout.stack) as u64)
        .str(" bytes");
    emit(&mut line);
    let mut line = Line::new();
    line.str("firmware: ")
        .decimal(summary.passed as u64)
        .str(" passed, ");
    line.decimal(summary.failed as u64).str(" failed");
    emit(&mut line);

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
    let mut line = Line::new();
    line.str("FAIL hard fault: pc=").hex32(frame.pc());
    line.str(" lr=")
        .hex32(frame.lr())
        .str(" xpsr=")
        .hex32(frame.xpsr());
    emit(&mut line);
    exit_failure()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Only the location: printing the message would link the formatting code of every panic
    // message in core and the harness (kilobytes of flash), and the location is enough to find
    // the `panic!` that fired.
    match info.location() {
        Some(at) => {
            let mut line = Line::new();
            line.str("FAIL panic at ")
                .str(at.file())
                .str(":")
                .decimal(u64::from(at.line()));
            emit(&mut line);
        }
        None => emit(Line::new().str("FAIL panic")),
    }
    exit_failure()
}
