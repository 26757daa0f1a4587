//! The console reached as an analyst would with curl: a cookie jar, and an account
//! whose password is set through `honeyward console password`.

use std::process::{Command, Stdio};

use super::BIN;

pub struct Curl<'a> {
    pub jar: &'a std::path::Path,
}

impl Curl<'_> {
    /// Status code and body.
    pub fn run(&self, args: &[&str]) -> (u16, String) {
        let out = Command::new("curl")
            .args(["-s", "-b", self.jar.to_str().unwrap(), "-c", self.jar.to_str().unwrap(), "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.trim().parse().unwrap(), body.to_string())
    }
}

pub fn set_password(dir: &std::path::Path, account: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["console", "password", account, "-c", "honeyward.yaml"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}
