//! Which configuration a command uses: `-c FILE`, else `./honeyward.yaml`, else the
//! embedded quick-start.

use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigErrors, StoreConfig, EMBEDDED_DEFAULT, EMBEDDED_DEFAULT_NAME};

/// The file looked for in the working directory when `-c` is not given.
pub const LOCAL_CONFIG: &str = "honeyward.yaml";

/// Where the configuration came from.
pub enum Source {
    File(PathBuf),
    Embedded,
}

/// Resolves and loads the configuration.
pub fn load(explicit: Option<&Path>) -> (Source, Result<Config, ConfigErrors>) {
    let path = explicit.map(Path::to_path_buf).or_else(|| {
        let local = PathBuf::from(LOCAL_CONFIG);
        local.is_file().then_some(local)
    });
    match path {
        Some(p) => {
            let result = config::load_file(&p);
            (Source::File(p), result)
        }
        None => (Source::Embedded, config::parse_str(EMBEDDED_DEFAULT_NAME, EMBEDDED_DEFAULT)),
    }
}

/// Which store (and state directory) a command reads.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Configuration whose store to use (default: ./honeyward.yaml, else the quick-start's).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use this store file instead of the configuration's.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
}

/// The store settings a command uses (`--store` replaces the configuration's path).
pub fn store_config(args: &StoreArgs) -> anyhow::Result<StoreConfig> {
    let (_, loaded) = load(args.config.as_deref());
    let config = loaded.map_err(|e| anyhow::anyhow!("{e}\ncannot find the store from the configuration (or pass --store PATH)"))?;
    let mut store = config.store;
    if let Some(p) = &args.store {
        store.path = p.clone();
    }
    Ok(store)
}
