//! Connection setup and versioned schema migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StoreError;
use crate::config::StoreSync;

/// Migrations, in order; `PRAGMA user_version` records how many have run.
/// Never edit a released migration: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: events and sink cursors.
    "CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        time_us INTEGER NOT NULL,
        sensor TEXT NOT NULL,
        decoy TEXT,
        kind INTEGER NOT NULL,
        source_ip TEXT,
        session TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX events_time ON events(time_us);
    CREATE TABLE sink_cursors (
        sink TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        updated_us INTEGER NOT NULL
    );",
    // 2: the honeytoken registry. Secrets are never stored: only keyed digests.
    "CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        label TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        state TEXT NOT NULL,
        changed_us INTEGER NOT NULL,
        facts TEXT NOT NULL
    );
    CREATE TABLE token_plants (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token TEXT NOT NULL REFERENCES tokens(id),
        host TEXT NOT NULL,
        path TEXT NOT NULL,
        note TEXT,
        template TEXT,
        created_us INTEGER NOT NULL
    );
    CREATE INDEX token_plants_token ON token_plants(token);
    CREATE TABLE token_material (
        material TEXT NOT NULL,
        digest BLOB NOT NULL,
        token TEXT NOT NULL REFERENCES tokens(id),
        plant INTEGER REFERENCES token_plants(id),
        PRIMARY KEY (material, digest)
    ) WITHOUT ROWID;
    CREATE TABLE registry_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
    INSERT INTO registry_version VALUES (1, 0);",
    // 3: delivery bookkeeping (dead letters, each sink's last outcome) and incident
    // acknowledgements (incidents themselves are derived from the events).
    "CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sink TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        time_us INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX dead_letters_sink ON dead_letters(sink, seq);
    CREATE TABLE sink_status (
        sink TEXT PRIMARY KEY,
        last_success_us INTEGER,
        last_error TEXT,
        last_error_us INTEGER
    );
    CREATE TABLE incident_acks (
        incident TEXT PRIMARY KEY,
        acked_us INTEGER NOT NULL,
        by TEXT NOT NULL,
        note TEXT
    );",
    // 4: fleet: enrolled sensors (with the key their requests are signed with) and
    // the controller API's bearer tokens (digests only).
    "CREATE TABLE sensors (
        name TEXT PRIMARY KEY,
        key BLOB NOT NULL,
        enrolled_us INTEGER NOT NULL,
        revoked_us INTEGER,
        last_seen_us INTEGER,
        last_source TEXT,
        status TEXT,
        silent_reported INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE api_tokens (
        name TEXT PRIMARY KEY,
        digest BLOB NOT NULL,
        created_us INTEGER NOT NULL,
        revoked_us INTEGER
    );",
    // 5: the web console: accounts, their passkeys (public keys only), optional
    // password hashes (argon2id), sessions and one-time sign-up links (digests only).
    "CREATE TABLE console_accounts (
        name TEXT PRIMARY KEY,
        handle BLOB NOT NULL UNIQUE,
        password_hash TEXT,
        created_us INTEGER NOT NULL
    );
    CREATE TABLE console_passkeys (
        credential_id BLOB PRIMARY KEY,
        account TEXT NOT NULL REFERENCES console_accounts(name),
        algorithm INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        sign_count INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        last_used_us INTEGER
    );
    CREATE TABLE console_sessions (
        digest BLOB PRIMARY KEY,
        account TEXT NOT NULL,
        csrf TEXT NOT NULL,
        expires_us INTEGER NOT NULL
    );
    CREATE TABLE console_invites (
        digest BLOB PRIMARY KEY,
        account TEXT NOT NULL,
        expires_us INTEGER NOT NULL,
        used_us INTEGER
    );",
    // 6: the nonces of signed sensor requests, kept until their signature is too old
    // to be accepted, so that a request captured before a controller restart is still
    // refused as a replay after it.
    "CREATE TABLE sensor_nonces (
        sensor TEXT NOT NULL,
        nonce TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        PRIMARY KEY (sensor, nonce)
    ) WITHOUT ROWID;
    CREATE INDEX sensor_nonces_expiry ON sensor_nonces (expires_ms);",
    // 7: incidents kept as they form (the incident follower groups committed events in
    // commit order and saves each incident it touched, with how far it has read), and
    // stored events counted by sensor, decoy and kind, so neither the console, `/metrics`
    // nor the CLI regroups or recounts the whole store (the cursor row also counts the
    // incidents that are not suppressed). An incident's events are those
    // of its sensor and source, with its suppression, between its first and last
    // sequence numbers (a token hit's incident is its one event).
    "CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        sensor TEXT NOT NULL,
        source_ip TEXT,
        suppressed INTEGER NOT NULL,
        token TEXT,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        first_us INTEGER NOT NULL,
        last_us INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        events INTEGER NOT NULL,
        decoys TEXT NOT NULL,
        kinds TEXT NOT NULL,
        techniques TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX incidents_last ON incidents (last_us, suppressed);
    CREATE TABLE incident_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, unsuppressed INTEGER NOT NULL);
    INSERT INTO incident_cursor VALUES (1, 0, 0);
    CREATE TABLE event_counts (
        sensor TEXT NOT NULL,
        decoy TEXT NOT NULL,
        kind INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (sensor, decoy, kind)
    ) WITHOUT ROWID;",
    // 8: least knowledge for sensors. Each piece of material also keeps its prehash (its
    // digest under a key derived from token.key), from which a controller derives each
    // sensor's own digests without ever holding the secret; a sensor's registry keeps
    // the prehash key its controller gave it (NULL elsewhere: direct digests).
    "ALTER TABLE token_material ADD COLUMN prehash BLOB;
    ALTER TABLE registry_version ADD COLUMN prehash_key BLOB;",
    // 9: a Windows account's NT hash, sealed under a key derived from token.key (an
    // NTLMv2 response can only be checked with the hash itself; see token/windows.rs).
    "ALTER TABLE token_material ADD COLUMN sealed BLOB;",
    // 10: an incident's story (what its events tell, as JSON), and the title and summary
    // written from it, kept for searching. Token hits now join their source's incident;
    // a row saved before this with a token and no story is one token hit alone.
    "ALTER TABLE incidents ADD COLUMN story TEXT NOT NULL DEFAULT '';
    ALTER TABLE incidents ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE incidents ADD COLUMN summary TEXT NOT NULL DEFAULT '';",
];

/// Opens (and with `create`, creates and migrates) the store at `path`.
pub fn open_connection(path: &Path, sync: StoreSync, create: bool) -> Result<Connection, StoreError> {
    let name = path.display().to_string();
    let wrap = |source| StoreError::Sqlite { path: name.clone(), cause: source };
    if !create && !path.exists() {
        return Err(StoreError::Missing(name));
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
        // A new store is private from its first byte: SQLite gives the -wal and -shm
        // files the database file's mode.
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::Create { path: name, cause: e }),
        }
    }
    let mut conn = Connection::open_with_flags(path, flags).map_err(wrap)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(wrap)?;
    let pages: i64 = conn.query_row("SELECT page_count FROM pragma_page_count()", [], |r| r.get(0)).map_err(wrap)?;
    if pages == 0 {
        // A new store, before its first page: freed pages can be given back (`retention`).
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").map_err(wrap)?;
    }
    conn.pragma_update(None, "journal_mode", "WAL").map_err(wrap)?;
    // The write-ahead log is cut back to 4 MiB after a checkpoint, not left at its peak.
    conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024).map_err(wrap)?;
    let sync = match sync {
        StoreSync::Full => "FULL",
        StoreSync::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", sync).map_err(wrap)?;
    migrate(&mut conn, &name)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, name: &str) -> Result<(), StoreError> {
    let wrap = |source| StoreError::Sqlite { path: name.to_string(), cause: source };
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(wrap)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { path: name.to_string(), found: version, known });
    }
    if version == known {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(wrap)?;
    // Re-read inside the write lock: another process may have migrated meanwhile.
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(wrap)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(sql).map_err(wrap)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(wrap)?;
    }
    tx.commit().map_err(wrap)
}
