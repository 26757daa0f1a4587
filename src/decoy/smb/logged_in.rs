//! What a session a planted credential (or a null session) opened holds: its keys,
//! the shares it connected, the files and pipes it has open, and what a compound's
//! related parts carry over from the part before.

use std::sync::Arc;

use super::share::{Found, View};
use super::signing::Signer;

/// A session a planted credential opened.
pub(super) struct Session {
    pub id: u64,
    /// `DOMAIN\user`, as it logged in.
    pub user: String,
    pub signer: Signer,
    /// The session's encryption keys (3.x with a cipher agreed).
    pub crypt: Option<super::transform::Crypt>,
    /// Every answer signed (the server or the client requires it).
    pub signing_required: bool,
    pub view: Arc<View>,
    /// A null session: IPC$ only, its pipes as the personality lets anonymous users in.
    pub anonymous: bool,
    pub trees: Vec<Tree>,
    pub opens: Vec<Open>,
    pub next_tree: u32,
    pub next_file: u64,
}

/// A connected share; `share` is None for IPC$.
pub(super) struct Tree {
    pub id: u32,
    pub share: Option<usize>,
    pub name: String,
}

/// An open file or folder.
pub(super) struct Open {
    pub id: (u64, u64),
    pub tree: u32,
    /// The path as found, and as the client wrote it (for events).
    pub path: Vec<String>,
    pub named: String,
    pub found: Found,
    /// A listing's names left to send, once one was asked for.
    pub listing: Option<Vec<(String, bool)>>,
    /// The srvsvc pipe, when this is an open of it on IPC$.
    pub pipe: Option<Box<super::srvsvc::Pipe>>,
    pub read_bytes: u64,
    pub reads: u32,
}

/// What a compound's parts carry over to the related parts after them.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Related {
    pub session: u64,
    pub tree: u32,
    pub file: Option<(u64, u64)>,
}

impl Session {
    pub fn new(id: u64, user: String, signer: Signer, crypt: Option<super::transform::Crypt>, signing_required: bool, view: Arc<View>) -> Session {
        Session { id, user, signer, crypt, signing_required, view, anonymous: false, trees: Vec::new(), opens: Vec::new(), next_tree: 1, next_file: 1 }
    }

    pub fn tree(&self, id: u32) -> Option<&Tree> {
        self.trees.iter().find(|t| t.id == id)
    }

    pub fn open(&self, id: (u64, u64)) -> Option<usize> {
        self.opens.iter().position(|o| o.id == id)
    }
}
