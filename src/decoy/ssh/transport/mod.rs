//! The SSH decoy's own server transport (RFC 4253), authentication (RFC 4252) and
//! connection subset (RFC 4254), driven entirely by the personality: the KEXINIT,
//! EXT_INFO, banner reactions, auth answers and disconnects of the imitated server.

pub mod algorithms;
pub mod conn;
pub mod crypto;
pub mod hostkey;
pub mod io;
pub mod kex;
pub mod kexinit;
pub mod msg;
pub mod packet;
pub mod rules;
pub mod version;
pub mod wire;
