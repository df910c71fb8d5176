//! `ricochet`: parse the command line, set up logging, run the command.

use clap::Parser;

/// mimalloc rather than glibc's malloc: allocation and freeing took about a fifth of the
/// server's CPU under load with glibc (BENCHMARKS.md, 2026-12-06).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = ricochet_server::config::Cli::parse();
    ricochet_server::telemetry::init(cli.global.log_format, &cli.global.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "starting the async runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ricochet_server::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line: the cause chain, most general first.
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
