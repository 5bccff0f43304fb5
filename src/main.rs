//! The `meshsim` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    meshsim::cli::main()
}
