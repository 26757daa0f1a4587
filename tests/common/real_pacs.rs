//! Real PACS servers for side-by-side tests: Debian's Orthanc and DCMTK's storescp on
//! loopback, and DCMTK's command-line tools.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{eventually, free_port, Reaped};

/// Debian's DICOMweb plugin (1.7), loaded by every real Orthanc here, as pacs-viewer
/// imitates an Orthanc with it.
const DICOMWEB_PLUGIN: &str = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

/// A real Orthanc 1.10.1 with its DICOMweb plugin started in `dir` with its storage
/// there and `settings` (more JSON members, e.g. `"Name": "PACS",
/// "AuthenticationEnabled": true`): the guard, its HTTP address and its DICOM
/// address, both accepting connections.
pub fn orthanc(dir: &Path, settings: &str) -> (Reaped, SocketAddr, SocketAddr) {
    let (http, dicom) = (free_port(), free_port());
    let storage = dir.join("orthanc-db");
    let extra = if settings.is_empty() { String::new() } else { format!(", {settings}") };
    let conf = format!(
        "{{\"StorageDirectory\": \"{s}\", \"IndexDirectory\": \"{s}\", \"HttpPort\": {http}, \"DicomPort\": {dicom}, \"RemoteAccessAllowed\": false, \"Plugins\": [\"{DICOMWEB_PLUGIN}\"]{extra}}}",
        s = storage.display()
    );
    std::fs::write(dir.join("orthanc.json"), conf).expect("orthanc.json");
    let guard = spawn(Command::new("/usr/sbin/Orthanc").arg(dir.join("orthanc.json")));
    let (http, dicom) = (SocketAddr::from(([127, 0, 0, 1], http)), SocketAddr::from(([127, 0, 0, 1], dicom)));
    assert!(eventually(20, || TcpStream::connect(http).is_ok() && TcpStream::connect(dicom).is_ok()), "Orthanc started");
    (guard, http, dicom)
}

/// A real storescp (DCMTK 3.6.7) writing into `dir`: the guard and its address.
pub fn storescp(dir: &Path) -> (Reaped, SocketAddr) {
    let port = free_port();
    let guard = spawn(Command::new("storescp").arg("--output-directory").arg(dir).arg(port.to_string()));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(eventually(20, || TcpStream::connect(addr).is_ok()), "storescp started");
    (guard, addr)
}

fn spawn(cmd: &mut Command) -> Reaped {
    Reaped(cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("Orthanc and DCMTK: scripts/test.sh installs them"))
}

/// Runs a DCMTK tool; its stdout and stderr together.
pub fn dcmtk(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd} must be installed (scripts/test.sh installs dcmtk): {e}"));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
