//! The name-resolution poisoning canary (LLMNR, NBT-NS, mDNS): its wire formats, the
//! interface it asks on, the canary itself, and the planted account it may offer.

pub mod bait;
pub mod canary;
pub mod iface;
pub mod wire;
