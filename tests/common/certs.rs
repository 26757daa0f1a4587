//! Test certificates made with the real `openssl` command line: a CA, and a server
//! certificate for a name and 127.0.0.1 signed by it (what an operator would make).

use std::path::Path;
use std::process::Command;

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test CA: `dir/{ca}.pem` and `dir/{ca}.key`.
pub fn certificates(dir: &Path, ca: &str) {
    let (key, pem, subject) = (format!("{ca}.key"), format!("{ca}.pem"), format!("/CN={ca}"));
    openssl(
        dir,
        &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", &subject, "-keyout", &key, "-out", &pem],
    );
}

/// A server certificate for `name` and 127.0.0.1 signed by the CA `ca`:
/// `dir/{out}.pem` and `dir/{out}.key`.
pub fn server_certificate(dir: &Path, ca: &str, name: &str, out: &str) {
    let (key, csr, pem, subject) = (format!("{out}.key"), format!("{out}.csr"), format!("{out}.pem"), format!("/CN={name}"));
    openssl(dir, &["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", &subject, "-keyout", &key, "-out", &csr]);
    std::fs::write(dir.join("san.ext"), format!("subjectAltName=DNS:{name},IP:127.0.0.1\n")).unwrap();
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(dir, &["x509", "-req", "-in", &csr, "-CA", &ca_pem, "-CAkey", &ca_key, "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", &pem]);
}
