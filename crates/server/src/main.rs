//! `ricochet`: parse the command line, set up logging, run the command.

use clap::Parser;

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
