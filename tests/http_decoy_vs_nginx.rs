//! The `nginx-default` personality against a real Debian nginx started on loopback by
//! the test: same status lines, header names in the same order (Date and ETag values
//! aside), same bodies.

mod common;


use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};


use common::*;

/// (status line, header names in order (lower-case), body).
fn shape(response: &[u8]) -> (String, Vec<String>, Vec<u8>) {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = String::from_utf8_lossy(&response[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("").to_string();
    let names = lines.filter_map(|l| l.split_once(':')).map(|(n, _)| n.to_lowercase()).collect();
    (status, names, response[end + 4..].to_vec())
}

#[test]
fn nginx_default_answers_like_a_real_debian_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conf = format!(
        "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{ include /etc/nginx/mime.types; default_type application/octet-stream; access_log off;\n server {{ listen 127.0.0.1:{port} default_server; root /var/www/html; index index.html index.htm index.nginx-debian.html; server_name _; location / {{ try_files $uri $uri/ =404; }} }} }}\n",
        d = dir.path().display()
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let mut nginx = Command::new("/usr/sbin/nginx").arg("-c").arg(dir.path().join("nginx.conf")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("nginx must be installed: scripts/test.sh installs it");
    let real: SocketAddr = ([127, 0, 0, 1], port).into();
    assert!(eventually(10, || TcpStream::connect(real).is_ok()));

    let hw = Honeyward::start(dir.path(), &config("  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n"));
    let decoy = hw.addr("web");
    let requests: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b",
        b"DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
    ];
    for req in requests {
        let (want, got) = (shape(&http_raw(real, req)), shape(&http_raw(decoy, req)));
        assert_eq!(got, want, "request {:?}", String::from_utf8_lossy(req));
    }
    let _ = nginx.kill();
    let _ = nginx.wait();
}
