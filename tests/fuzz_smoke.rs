//! A short fuzz smoke run inside the test suite (the real campaign is cargo-fuzz, see
//! fuzz/REPORT.md): every fuzz entry point over its seed corpus and 3,000
//! deterministic mutations of it (bit flips, truncations, insertions, splices). Must
//! not panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

use std::path::Path;

use rand::{Rng, RngExt, SeedableRng};

const MUTATIONS_PER_TARGET: usize = 3000;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| std::fs::read(e.ok()?.path()).ok()).collect()).unwrap_or_default();
    out.push(Vec::new());
    out
}

fn mutate(rng: &mut impl Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut v = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..8) {
        match rng.random_range(0..5) {
            0 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !v.is_empty() => {
                let n = rng.random_range(0..v.len());
                v.truncate(n);
            }
            2 => {
                let i = rng.random_range(0..=v.len());
                let b: u8 = rng.random();
                v.insert(i, b);
            }
            3 => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                if !other.is_empty() {
                    let from = rng.random_range(0..other.len());
                    let i = rng.random_range(0..=v.len());
                    let piece: Vec<u8> = other[from..].iter().take(64).copied().collect();
                    v.splice(i..i, piece);
                }
            }
            _ => {
                let i = rng.random_range(0..=v.len());
                v.splice(i..i, [0xff, 0x00, b'\n', b'"', b'\\', 0x1b]);
            }
        }
    }
    v
}

fn smoke(target: &str, run: fn(&[u8])) {
    let seeds = seeds(target);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x686f6e6579);
    for s in &seeds {
        run(s);
    }
    for _ in 0..MUTATIONS_PER_TARGET {
        run(&mutate(&mut rng, &seeds));
    }
}

#[test]
fn every_fuzz_target_survives_its_seeds_and_thousands_of_mutations() {
    use honeyward::fuzzing::*;
    smoke("dimse_command", dimse_command);
    smoke("ssh_client_hello", ssh_client_hello);
    smoke("http_request", http_request);
    smoke("config", config);
    smoke("encoders", encoders);
    smoke("webauthn", webauthn);
    smoke("event_json", event_json);
}

#[test]
fn the_ssh_transport_parsers_survive_their_seeds_and_mutations() {
    use honeyward::fuzzing::*;
    smoke("ssh_packet", ssh_packet);
    smoke("ssh_kexinit", ssh_kexinit);
    smoke("ssh_userauth", ssh_userauth);
}

#[test]
fn every_key_exchange_survives_its_seeds_and_mutations() {
    // Separate: a valid exchange costs real public-key operations.
    smoke("ssh_kex_reply", honeyward::fuzzing::ssh_kex_reply);
}

#[test]
fn the_h2_connection_and_ntlmssp_parsers_survive_their_seeds_and_mutations() {
    smoke("h2_connection", honeyward::fuzzing::h2_connection);
    smoke("ntlmssp", honeyward::fuzzing::ntlmssp);
}

#[test]
fn the_smb_spnego_rdp_and_poisoner_answer_parsers_survive_their_seeds_and_mutations() {
    smoke("smb_connection", honeyward::fuzzing::smb_connection);
    smoke("spnego", honeyward::fuzzing::spnego);
    smoke("srvsvc", honeyward::fuzzing::srvsvc);
    smoke("rdp", honeyward::fuzzing::rdp);
    smoke("poison_answer", honeyward::fuzzing::poison_answer);
}

#[test]
fn the_dicom_pdu_reader_survives_its_seeds_and_mutations() {
    // Separate: each call runs a small async runtime.
    smoke("dicom_pdu", honeyward::fuzzing::dicom_pdu);
}

#[test]
fn the_hl7_framer_and_message_parser_survive_their_seeds_and_mutations() {
    smoke("mllp", honeyward::fuzzing::mllp);
    smoke("hl7_message", honeyward::fuzzing::hl7_message);
}

#[test]
fn the_fhir_search_parser_survives_its_seeds_and_mutations() {
    smoke("fhir_search", honeyward::fuzzing::fhir_search);
}
