//! `honeyward token ...`: create, plant, list, show and revoke honeytokens.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use super::config_source::{self, StoreArgs};
use crate::event::Timestamp;
use crate::token::template::{self, TEMPLATES};
use crate::token::{self, CreateOptions, KeyAlgorithm, NewToken, Plant, Registry, Secrets, Token, TokenKind, UrlResponse};

/// `token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Generate a honeytoken, register it, and plant it in a file (or print it once).
    ///
    /// Secrets are never stored: only keyed digests go into the registry. Without
    /// --plant or --out the secret is printed once and cannot be shown again.
    Create(CreateArgs),
    /// List tokens with their plants and state.
    List(ListArgs),
    /// Show one token in full (facts, plants, the decoys it was hit through; never secrets).
    Show(ShowArgs),
    /// Record (and, for templates that need no secret, write) another plant of a token.
    Plant(PlantArgs),
    /// Revoke a token: it is still recognised, and hits are marked revoked.
    Revoke(IdArgs),
    /// List the templates tokens can be planted as.
    Templates,
}

/// Where a token goes.
#[derive(Debug, Args)]
pub struct PlantTarget {
    /// Template to render (see `honeyward token templates`; default depends on the kind).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// Directory with your own templates (NAME.j2), used before the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Host the plant is on (default: this host's name).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// A note about the plant (who, why), shown in alerts.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Options of `token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Kind of token.
    #[arg(value_enum)]
    pub kind: TokenKind,
    /// What it is and where it goes, e.g. "backup svc on pacs-ws-12".
    #[arg(long, value_name = "TEXT")]
    pub label: String,
    /// Write the token into this file and record it as a plant on --host.
    #[arg(long, value_name = "PATH", conflicts_with = "out")]
    pub plant: Option<PathBuf>,
    /// Write the rendered file here for you to copy elsewhere (no plant recorded;
    /// record it later with `token plant ID --record-only`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub target: PlantTarget,
    /// The decoy planted credentials and URLs point at (its listen address).
    #[arg(long, value_name = "NAME")]
    pub decoy: Option<String>,
    /// URL planted credentials and URLs point at (instead of --decoy).
    #[arg(long, value_name = "URL", conflicts_with = "decoy")]
    pub endpoint: Option<String>,
    /// Username (credential kinds; default: a believable service account).
    #[arg(long)]
    pub username: Option<String>,
    /// Password (credential kinds; default: generated, strong and pronounceable).
    #[arg(long)]
    pub password: Option<String>,
    /// NetBIOS domain of a windows-password account (default: NHSTRUST).
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,
    /// Key algorithm for ssh-key.
    #[arg(long, value_enum, default_value_t = KeyAlgorithm::Ed25519)]
    pub algorithm: KeyAlgorithm,
    /// DICOM UID root for honey patients (2.25 = UUID-derived, no registration needed).
    #[arg(long, default_value = "2.25")]
    pub uid_root: String,
    /// Imaging studies per honey patient.
    #[arg(long, default_value_t = 1)]
    pub studies: usize,
    /// How the HTTP decoy answers a url token: a redirect to its sign-in page, a 1x1
    /// GIF (the URL then ends in .gif, for web bugs), or its 404 page.
    #[arg(long, value_enum, default_value_t = UrlResponse::Redirect)]
    pub url_response: UrlResponse,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `token list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// One JSON object per token.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `token show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Token id (tok-...).
    pub id: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `token plant`.
#[derive(Debug, Args)]
pub struct PlantArgs {
    /// Token id (tok-...).
    pub id: String,
    /// Where the token is (or goes).
    #[arg(long, value_name = "PATH")]
    pub path: PathBuf,
    #[command(flatten)]
    pub target: PlantTarget,
    /// Only record the plant (you placed a copy yourself); write nothing.
    #[arg(long)]
    pub record_only: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// A token id and the store.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Token id (tok-...).
    pub id: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn registry(args: &StoreArgs) -> anyhow::Result<Registry> {
    let store = config_source::store_config(args)?;
    Ok(Registry::open(&store.path, &store.state_dir, store.sync)?)
}

/// Runs a `token` subcommand.
pub fn execute(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Create(a) => create(a),
        TokenCommand::List(a) => {
            let tokens = registry(&a.store)?.list()?;
            for t in &tokens {
                if a.json {
                    println!("{}", crate::event::visible_json(&serde_json::to_string(t)?));
                } else {
                    print_token(t);
                }
            }
            if !a.json && tokens.is_empty() {
                println!("no tokens yet: `honeyward token create KIND --label TEXT --plant PATH`");
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Show(a) => {
            let t = registry(&a.store)?.get(&a.id)?.ok_or_else(|| token::TokenError::NotFound(a.id.clone()))?;
            // Where it was hit: the decoys (doors) it was touched through.
            let store = config_source::store_config(&a.store)?;
            let doors = crate::store::StoreReader::open(&store.path, false)?.token_doors(&a.id)?;
            let mut shown = serde_json::to_value(&t)?;
            shown["hits_by_decoy"] = serde_json::to_value(&doors)?;
            println!("{}", crate::event::visible_json(&serde_json::to_string_pretty(&shown)?));
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Plant(a) => plant_existing(a),
        TokenCommand::Revoke(a) => {
            if !registry(&a.store)?.revoke(&a.id)? {
                bail!(token::TokenError::NotFound(a.id));
            }
            println!("revoked {}: still recognised; hits are now marked revoked", a.id);
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Templates => {
            for t in TEMPLATES {
                println!("{:<16} {}", t.name, t.description);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_token(t: &Token) {
    println!("{}  {:<12} {:<8} {}  {}", t.id, t.kind.as_str(), t.state.as_str(), t.created.to_rfc3339(), crate::event::visible(&t.label));
    for p in &t.plants {
        let here = crate::config::host_name();
        // A stat, never an open: listing must not trigger a canary.
        let status = if p.host == here && Path::new(&p.path).symlink_metadata().is_err() { " [missing]" } else { "" };
        let template = p.template.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
        println!("{}", crate::event::visible(&format!("    plant {}:{}{}{}", p.host, p.path, template, status)));
    }
}

/// An endpoint from --endpoint, from --decoy's listen address, or else from the first
/// configured decoy that fits the kind (said on stderr).
fn endpoint(a: &CreateArgs) -> anyhow::Result<Option<String>> {
    if let Some(e) = &a.endpoint {
        return Ok(Some(e.clone()));
    }
    let (_, loaded) = config_source::load(a.store.config.as_deref());
    if let Some(name) = &a.decoy {
        let config = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(Some(token::endpoint::of_named(&config, name).map_err(|e| anyhow::anyhow!("{e}: pass --endpoint URL"))?));
    }
    let Some((name, endpoint)) = loaded.ok().and_then(|c| token::endpoint::default_for(&c, a.kind)) else { return Ok(None) };
    eprintln!("pointing at decoy `{name}` ({endpoint}); --decoy NAME or --endpoint URL to choose");
    Ok(Some(endpoint))
}

/// Absolute path (parent canonicalised when it exists), as the watcher will see it.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let path = std::path::absolute(path).with_context(|| format!("bad path {}", path.display()))?;
    match (path.parent().and_then(|p| p.canonicalize().ok()), path.file_name()) {
        (Some(dir), Some(name)) => Ok(dir.join(name)),
        _ => Ok(path),
    }
}

/// Renders `template_name` for the token and writes it to `path`.
fn write_file(t: &Token, secrets: &Secrets, target: &PlantTarget, template_name: &str, path: &Path, host: &str) -> anyhow::Result<u32> {
    let (bytes, mode) = template::artifact(t, secrets, template_name, host, target.templates.as_deref())?;
    token::write_planted(path, &bytes, mode, target.force)?;
    Ok(mode)
}

fn create(a: CreateArgs) -> anyhow::Result<ExitCode> {
    let host = a.target.host.clone().unwrap_or_else(crate::config::host_name);
    let opts = CreateOptions {
        username: a.username.clone(),
        password: a.password.clone(),
        domain: a.domain.clone(),
        key_algorithm: a.algorithm,
        uid_root: a.uid_root.clone(),
        studies: a.studies,
        url_response: a.url_response,
        endpoint: endpoint(&a)?,
        host: host.clone(),
        ..CreateOptions::new(a.kind, a.label.clone())
    };
    if a.kind == TokenKind::Url && opts.endpoint.is_none() {
        bail!("a url token needs --decoy NAME or --endpoint URL (the HTTP decoy that serves it)");
    }
    let mut reg = registry(&a.store)?;
    let NewToken { token: t, secrets, material, nt_hash } = reg.generate(&opts)?;
    let template_name = a.target.template.clone().unwrap_or_else(|| token::default_template(a.kind).to_string());
    // Render before registering, so a template error leaves nothing behind.
    let target_path = match (&a.plant, &a.out) {
        (Some(p), _) | (None, Some(p)) => Some(absolute(p)?),
        _ => None,
    };
    let new = NewToken { token: t.clone(), secrets: secrets.clone(), material, nt_hash };
    if let Some(path) = &target_path {
        let mode = write_file(&t, &secrets, &a.target, &template_name, path, &host)?;
        reg.insert(&[&new])?;
        println!("created {} ({}) \"{}\"", t.id, t.kind.as_str(), t.label);
        if a.plant.is_some() {
            let plant = Plant {
                host: host.clone(),
                path: path.display().to_string(),
                note: a.target.note.clone(),
                template: Some(template_name.clone()),
                created: Timestamp::now(),
            };
            reg.add_plant(&t.id, &plant, t.kind == TokenKind::File)?;
            println!("planted {} on {host} (template {template_name}, mode {mode:o})", path.display());
        } else {
            println!("wrote {} (template {template_name}, mode {mode:o}); record where you put it with `honeyward token plant {} --record-only --host HOST --path PATH`", path.display(), t.id);
        }
    } else {
        reg.insert(&[&new])?;
        println!("created {} ({}) \"{}\"", t.id, t.kind.as_str(), t.label);
        print_once(&t, &secrets);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the secrets of a token that was not planted: the only time they exist.
fn print_once(t: &Token, s: &Secrets) {
    let f = &t.facts;
    let show = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            println!("  {k}: {v}");
        }
    };
    show("domain", f.domain.as_deref());
    show("username", f.username.as_deref());
    show("password", s.password.as_ref().map(|v| v.expose()));
    show("access_key_id", s.access_key_id.as_ref().map(|v| v.expose()));
    show("secret_access_key", s.secret_access_key.as_ref().map(|v| v.expose()));
    show("bearer", s.bearer.as_ref().map(|v| v.expose()));
    show("key_fingerprint", f.key_fingerprint.as_deref());
    show("url", f.url_path.as_ref().map(|p| format!("{}{p}", f.endpoint.as_deref().unwrap_or(""))).as_deref());
    if let Some(k) = s.private_key.as_ref() {
        println!("{}", k.expose());
    }
    if let Some(p) = &f.patient {
        println!("  patient: {} NHS {} MRN {}", p.dicom_name(), p.nhs_number, p.mrn);
    }
    eprintln!("secrets are not stored: this is the only time they are shown");
}

fn plant_existing(a: PlantArgs) -> anyhow::Result<ExitCode> {
    let mut reg = registry(&a.store)?;
    let t = reg.get(&a.id)?.ok_or_else(|| token::TokenError::NotFound(a.id.clone()))?;
    let host = a.target.host.clone().unwrap_or_else(crate::config::host_name);
    let template_name = a.target.template.clone().unwrap_or_else(|| token::default_template(t.kind).to_string());
    let path = absolute(&a.path)?;
    if !a.record_only {
        // Only templates that need no secret can be written now: secrets are not stored.
        write_file(&t, &Secrets::default(), &a.target, &template_name, &path, &host)?;
        println!("wrote {} (template {template_name})", path.display());
    }
    let plant =
        Plant { host: host.clone(), path: path.display().to_string(), note: a.target.note.clone(), template: Some(template_name), created: Timestamp::now() };
    reg.add_plant(&t.id, &plant, t.kind == TokenKind::File)?;
    println!("recorded plant of {} at {host}:{}", t.id, path.display());
    Ok(ExitCode::SUCCESS)
}
