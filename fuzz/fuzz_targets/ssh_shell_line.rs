//! Any line typed into the fake shell is answered without panicking, and the working
//! directory stays an absolute, normalised path.
#![no_main]

use honeyward::decoy::ssh::shell::{run_line, ShellState};
use honeyward::decoy::ssh::SshPersonality;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(Ok(p)) = SshPersonality::built_in("openssh-debian12") else { return };
    let mut state = ShellState::login("radadmin", &p.shell);
    let line = String::from_utf8_lossy(data);
    let _ = run_line(&line, &mut state, &p.shell);
    assert!(state.cwd.starts_with('/') && !state.cwd.contains("/../"));
});
