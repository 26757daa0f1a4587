//! The transport's symmetric primitives and RSA signing: packet ciphers, MACs (UMAC
//! written here from RFC 4418), and the one RSA signature ring does not make.

pub mod cipher;
pub mod mac;
pub mod rsa;
pub mod umac;
