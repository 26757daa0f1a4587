//! `honeyward run`.

use std::process::ExitCode;

use anyhow::Context as _;

use super::config_source::{self, Source, LOCAL_CONFIG};
use super::RunArgs;
use crate::shutdown::{shutdown_on_signals, Shutdown};

/// Loads the configuration, starts everything, and waits for SIGINT/SIGTERM.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (source, loaded) = config_source::load(args.config.as_deref());
    let config = match loaded {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("honeyward not started: fix the configuration (check it with `honeyward validate -c FILE`)");
            return Ok(ExitCode::from(1));
        }
    };
    match &source {
        Source::Embedded => {
            tracing::info!("no configuration given and no ./{LOCAL_CONFIG}: running the embedded quick-start (`honeyward example-config` shows a complete one)")
        }
        Source::File(p) => tracing::info!(config = %p.display(), "configuration loaded"),
    }
    raise_open_files_limit();
    let embedded = matches!(source, Source::Embedded);
    let p = &args.privileges;
    let after_bind = match (&p.user, p.allow_root) {
        (Some(user), _) => crate::app::AfterBind::Become(crate::privilege::resolve(user, p.group.as_deref())?),
        (None, true) => crate::app::AfterBind::Stay,
        // The quick-start only listens on loopback: let a first try in a root shell or
        // container run, with a warning; a real configuration must say what it wants.
        (None, false) if embedded => {
            if crate::privilege::is_root() {
                tracing::warn!("running the quick-start as root; with a configuration file honeyward refuses this unless --user NAME or --allow-root is given");
            }
            crate::app::AfterBind::Stay
        }
        (None, false) => crate::app::AfterBind::RefuseRoot,
    };
    crate::resident::tune_allocator();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("honeyward")
        .thread_keep_alive(crate::resident::IDLE_THREAD_KEEP_ALIVE)
        // Decoy work yields to the store writer and the sinks (threads of their own).
        .on_thread_start(|| crate::priority::lower_this_thread(crate::priority::DECOY_WORKER_NICE))
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let shutdown = Shutdown::new();
        shutdown_on_signals(shutdown.clone()).context("cannot install signal handlers")?;
        let running = crate::app::start_as(config, shutdown, after_bind).await?;
        tracing::info!(decoys = running.listeners.len(), "honeyward running; SIGINT or SIGTERM stops it");
        running.wait().await;
        anyhow::Ok(ExitCode::SUCCESS)
    });
    // Everything that holds events has finished by now (the writer committed, sinks
    // caught up or saved their cursors); a read still running on the blocking pool
    // (a console page, `/metrics`) must not hold the exit.
    runtime.shutdown_timeout(READS_DEADLINE);
    result
}

/// How long reads still running at shutdown may delay the exit.
const READS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// Decoys hold many idle connections during scans: use the hard limit on open files.
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
fn raise_open_files_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                tracing::debug!("could not raise the open-files limit");
            }
        }
    }
}
