//! The `meshsim` binary: everything lives in the library's `cli` module.

// Loading a large mesh is dominated by small allocations on every core; the
// system allocator spent a fifth of the run there (perf, 10k-service mesh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    meshsim::cli::main()
}
