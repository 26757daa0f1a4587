//! Name-resolution poisoning canary (LLMNR, NBT-NS, mDNS): wire formats; the canary itself comes next.

pub mod wire;
