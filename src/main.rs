//! The `meshsim` binary: everything lives in the library's `cli` module.

use std::ffi::c_int;

// Loading a large mesh is dominated by small allocations on every core; the
// system allocator spent a fifth of the run there (perf, 10k-service mesh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its v3 `mi_option_t` numbering).
const PURGE_DELAY: c_int = 15;

fn main() -> std::process::ExitCode {
    // A run is short and its memory is reused at once: memory handed back to
    // the OS mid-run was faulted back in (a diff at 10,000 services purged
    // 9.6 GiB and spent 6 s more, most of it in the kernel).
    // SAFETY: mimalloc's option setter, with an option it defines.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    meshsim::cli::main()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_is_the_option_numbered_so() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // Its default (1000 ms) tells it from its neighbours.
        // SAFETY: mimalloc's option getter.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 1000);
    }
}
