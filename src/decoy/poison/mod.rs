//! The name-resolution poisoning canary (LLMNR, NBT-NS, mDNS): its wire formats, the
//! interface it asks on, and the canary itself.

pub mod canary;
pub mod iface;
pub mod wire;
