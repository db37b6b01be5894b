//! `guardrails-api`: the REST API of Guardrails, or with `--standalone` the whole job in one process.

use std::process::ExitCode;

use clap::Parser;
use guardrails_api::config::Config;
use guardrails_runtime::logging;

fn main() -> ExitCode {
    keep_freed_memory_returnable();
    let config = Config::parse();
    logging::init(config.log_format, "info");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(guardrails_api::server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("error: {err}");
            if err.is_configuration() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Bounds glibc's allocator so memory freed after a large text goes back to the system.
///
/// NB: by default glibc gives each thread that allocates (the store and analysis threads) its
/// own arena, up to 8 per CPU, and raises its mmap threshold after large frees, so buffers of
/// finished analyses stay resident: RSS measured 1 GiB after 60 texts of 900 KB against 0.2 GiB
/// with these two settings (docs/performance.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory_returnable() {
    // SAFETY: mallopt only sets allocator parameters; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory_returnable() {}
