//! A real Debian nginx on loopback, configured as Debian ships its default site
//! (`gzip on`), for side-by-side tests of the nginx personalities.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{eventually, free_port, Reaped};

/// nginx serving Debian's default site from `dir`'s config, with `locations` added to
/// its server block (`{dir}` in them stands for `dir`): the guard and its address.
pub fn nginx(dir: &Path, locations: &str) -> (Reaped, SocketAddr) {
    let port = free_port();
    let d = dir.display();
    let locations = locations.replace("{dir}", &d.to_string());
    let conf = format!(
        "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{ include /etc/nginx/mime.types; default_type application/octet-stream; access_log off; gzip on;\n server {{ listen 127.0.0.1:{port} default_server; root /var/www/html; index index.html index.htm index.nginx-debian.html; server_name _; location / {{ try_files $uri $uri/ =404; }}\n{locations} }} }}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
    let guard = Reaped(
        Command::new("/usr/sbin/nginx")
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx must be installed: scripts/test.sh installs it"),
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(eventually(10, || TcpStream::connect(addr).is_ok()), "nginx started");
    (guard, addr)
}
