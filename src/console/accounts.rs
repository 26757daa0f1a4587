//! Console accounts in the store: passkeys (public keys only), optional argon2id
//! password hashes, sessions and one-time sign-up links. Secrets handed to browsers
//! (session cookies, invite links) are stored as SHA-256 digests only.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::webauthn::{b64url, NewPasskey};
use crate::config::StoreSync;
use crate::event::Timestamp;
use crate::store::{open_connection, StoreError};

/// What can go wrong with the console's tables.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("console accounts: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// The store's console tables.
pub struct Accounts {
    conn: Connection,
}

/// A stored passkey.
#[derive(Debug, Clone)]
pub struct Passkey {
    pub account: String,
    pub algorithm: i64,
    pub public_key: Vec<u8>,
    pub sign_count: u32,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: String,
    /// The token every form and state-changing request must carry.
    pub csrf: String,
}

fn digest(secret: &str) -> Vec<u8> {
    super::webauthn::sha256(secret.as_bytes()).to_vec()
}

/// 32 random bytes, base64url.
pub fn random_secret() -> String {
    b64url(&rand::random::<[u8; 32]>())
}

fn micros_after(d: Duration) -> i64 {
    Timestamp::now().as_micros().saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Valid account names: what people type.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
}

impl Accounts {
    pub fn open(path: &Path) -> Result<Self, AccountsError> {
        Ok(Accounts { conn: open_connection(path, StoreSync::Full, true)? })
    }

    pub fn count(&self) -> Result<u64, AccountsError> {
        Ok(self.conn.query_row("SELECT count(*) FROM console_accounts", [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64)?)
    }

    /// A one-time sign-up link secret for `account` (new or existing: it adds a passkey).
    pub fn invite(&self, account: &str, valid_for: Duration) -> Result<String, AccountsError> {
        let secret = random_secret();
        self.conn.execute(
            "INSERT INTO console_invites (digest, account, expires_us) VALUES (?1, ?2, ?3)",
            params![digest(&secret), account, micros_after(valid_for)],
        )?;
        Ok(secret)
    }

    /// The account an unused, unexpired invite is for.
    pub fn invite_account(&self, secret: &str) -> Result<Option<String>, AccountsError> {
        Ok(self
            .conn
            .query_row(
                "SELECT account FROM console_invites WHERE digest = ?1 AND used_us IS NULL AND expires_us > ?2",
                params![digest(secret), Timestamp::now().as_micros()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Uses the invite and stores the account (if new) with its first passkey, in one
    /// transaction; false if the invite was used meanwhile.
    pub fn redeem(&mut self, secret: &str, passkey: &NewPasskey) -> Result<Option<String>, AccountsError> {
        let tx = self.conn.transaction()?;
        let now = Timestamp::now().as_micros();
        let account: Option<String> = tx
            .query_row("SELECT account FROM console_invites WHERE digest = ?1 AND used_us IS NULL AND expires_us > ?2", params![digest(secret), now], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(account) = account else { return Ok(None) };
        tx.execute("UPDATE console_invites SET used_us = ?2 WHERE digest = ?1", params![digest(secret), now])?;
        tx.execute(
            "INSERT OR IGNORE INTO console_accounts (name, handle, created_us) VALUES (?1, ?2, ?3)",
            params![account, rand::random::<[u8; 16]>().to_vec(), now],
        )?;
        tx.execute(
            "INSERT INTO console_passkeys (credential_id, account, algorithm, public_key, sign_count, created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![passkey.credential_id, account, passkey.algorithm, passkey.public_key, passkey.sign_count, now],
        )?;
        tx.commit()?;
        Ok(Some(account))
    }

    /// The account's WebAuthn user handle.
    pub fn handle(&self, account: &str) -> Result<Option<Vec<u8>>, AccountsError> {
        Ok(self.conn.query_row("SELECT handle FROM console_accounts WHERE name = ?1", params![account], |r| r.get(0)).optional()?)
    }

    pub fn passkey(&self, credential_id: &[u8]) -> Result<Option<Passkey>, AccountsError> {
        Ok(self
            .conn
            .query_row("SELECT account, algorithm, public_key, sign_count FROM console_passkeys WHERE credential_id = ?1", params![credential_id], |r| {
                Ok(Passkey {
                    account: r.get(0)?,
                    algorithm: r.get(1)?,
                    public_key: r.get(2)?,
                    sign_count: r.get::<_, i64>(3)?.clamp(0, u32::MAX as i64) as u32,
                })
            })
            .optional()?)
    }

    pub fn passkey_used(&self, credential_id: &[u8], sign_count: u32) -> Result<(), AccountsError> {
        self.conn.execute(
            "UPDATE console_passkeys SET sign_count = ?2, last_used_us = ?3 WHERE credential_id = ?1",
            params![credential_id, sign_count, Timestamp::now().as_micros()],
        )?;
        Ok(())
    }

    /// Creates the account if it does not exist yet (for password-only sign-in).
    pub fn ensure_account(&self, account: &str) -> Result<(), AccountsError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO console_accounts (name, handle, created_us) VALUES (?1, ?2, ?3)",
            params![account, rand::random::<[u8; 16]>().to_vec(), Timestamp::now().as_micros()],
        )?;
        Ok(())
    }

    pub fn set_password_hash(&self, account: &str, hash: &str) -> Result<bool, AccountsError> {
        Ok(self.conn.execute("UPDATE console_accounts SET password_hash = ?2 WHERE name = ?1", params![account, hash])? == 1)
    }

    pub fn password_hash(&self, account: &str) -> Result<Option<String>, AccountsError> {
        Ok(self
            .conn
            .query_row("SELECT password_hash FROM console_accounts WHERE name = ?1", params![account], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// Starts a session; returns the cookie secret.
    pub fn start_session(&self, account: &str, lasts: Duration) -> Result<String, AccountsError> {
        let secret = random_secret();
        self.conn.execute("DELETE FROM console_sessions WHERE expires_us <= ?1", params![Timestamp::now().as_micros()])?;
        self.conn.execute(
            "INSERT INTO console_sessions (digest, account, csrf, expires_us) VALUES (?1, ?2, ?3, ?4)",
            params![digest(&secret), account, random_secret(), micros_after(lasts)],
        )?;
        Ok(secret)
    }

    pub fn session(&self, secret: &str) -> Result<Option<Session>, AccountsError> {
        Ok(self
            .conn
            .query_row(
                "SELECT account, csrf FROM console_sessions WHERE digest = ?1 AND expires_us > ?2",
                params![digest(secret), Timestamp::now().as_micros()],
                |r| Ok(Session { account: r.get(0)?, csrf: r.get(1)? }),
            )
            .optional()?)
    }

    pub fn end_session(&self, secret: &str) -> Result<(), AccountsError> {
        self.conn.execute("DELETE FROM console_sessions WHERE digest = ?1", params![digest(secret)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passkey(id: &[u8]) -> NewPasskey {
        NewPasskey { credential_id: id.to_vec(), algorithm: -7, public_key: vec![4; 65], sign_count: 0 }
    }

    #[test]
    fn an_invite_works_once_and_sessions_expire_or_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Accounts::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(a.count().unwrap(), 0);
        let invite = a.invite("admin", Duration::from_secs(60)).unwrap();
        assert_eq!(a.invite_account(&invite).unwrap().as_deref(), Some("admin"));
        assert_eq!(a.redeem(&invite, &passkey(b"k1")).unwrap().as_deref(), Some("admin"));
        assert_eq!(a.redeem(&invite, &passkey(b"k2")).unwrap(), None, "used once only");
        assert!(a.invite_account(&invite).unwrap().is_none());
        assert_eq!(a.count().unwrap(), 1);
        assert_eq!(a.passkey(b"k1").unwrap().unwrap().account, "admin");
        assert!(a.passkey(b"k2").unwrap().is_none());
        let expired = a.invite("late", Duration::ZERO).unwrap();
        assert!(a.invite_account(&expired).unwrap().is_none());

        let s = a.start_session("admin", Duration::from_secs(60)).unwrap();
        let session = a.session(&s).unwrap().unwrap();
        assert_eq!(session.account, "admin");
        assert!(session.csrf.len() >= 40);
        assert!(a.session("forged").unwrap().is_none());
        a.end_session(&s).unwrap();
        assert!(a.session(&s).unwrap().is_none());
        let short = a.start_session("admin", Duration::ZERO).unwrap();
        assert!(a.session(&short).unwrap().is_none());
    }

    #[test]
    fn account_names_are_plain() {
        assert!(valid_name("dr.jones@trust"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name("<script>"));
    }
}
