//! Honeytokens: secrets that exist only to be stolen. Generation, templates and
//! planting, the registry of keyed digests, and the matcher decoys consult.

pub mod clinical;
mod create;
mod dicom_file;
pub mod endpoint;
mod follow;
mod generate;
mod keyed_hash;
mod kind;
mod matcher;
mod model;
pub mod nhs;
mod patient;
mod plant;
mod registry;
mod secret;
mod sensor_index;
mod sshkey;
pub mod template;
pub mod windows;

pub use crate::event::{Plant, TokenHit, TokenKind, TokenState};
pub use create::{generate as create_token, CreateOptions};
pub use dicom_file::{instance_dataset, instance_file, patient_file, IMAGE_SIDE, SOP_CLASS as HONEY_SOP_CLASS};
pub use follow::follow_registry;
pub use generate::{aws_access_key_id, aws_secret_access_key};
pub use keyed_hash::{Digest, MaterialKey};
pub use kind::{default_template, material_of, MaterialKind, ALL as ALL_KINDS};
pub use matcher::{Matcher, SensorDigests, TokenMatch};
pub use model::{NewToken, Secrets, Token, TokenFacts, UrlResponse};
pub use patient::{HoneyPatient, Series, Study};
pub use plant::write_planted;
pub use registry::{version_of, Registry};
pub use secret::Secret;
pub use sensor_index::{Needs, SensorIndex};
pub use sshkey::KeyAlgorithm;

/// What can go wrong with tokens.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists (pass --force to replace it)")]
    Exists(String),
    #[error("{0}")]
    Io(String),
    #[error("token registry: {0}")]
    Store(String),
    #[error("no token with id {0}")]
    NotFound(String),
    #[error("generating an SSH key: {0}")]
    KeyGeneration(#[from] ssh_key::Error),
}
