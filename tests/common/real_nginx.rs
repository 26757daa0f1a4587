//! A real Debian nginx on loopback, configured as Debian ships its default site
//! (`gzip on`), for side-by-side tests of the nginx personalities: plain, with HTTPS
//! turned on as Debian's nginx.conf does, or passing pages to a real PHP-FPM.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{eventually, free_port, Reaped};

/// nginx serving Debian's default site from `dir`'s config, with `locations` added to
/// its server block (`{dir}` in them stands for `dir`): the guard and its address.
pub fn nginx(dir: &Path, locations: &str) -> (Reaped, SocketAddr) {
    start(dir, "", "", locations)
}

/// nginx as a Debian admin turns on HTTPS for the default site: Debian's `nginx.conf`
/// TLS lines (`ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers
/// on;`), `listen ... ssl http2` and the given certificate chain and key.
pub fn nginx_tls(dir: &Path, cert: &Path, key: &Path) -> (Reaped, SocketAddr) {
    let http = "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;";
    let server = format!("ssl_certificate {}; ssl_certificate_key {};", cert.display(), key.display());
    start(dir, " ssl http2", &format!("{http}\n server {{ {server}"), "")
}

/// `listen` gets `listen_flags`; `http_lines` go before the server block and may open
/// it with lines of their own (ending in `server {{ ...`).
fn start(dir: &Path, listen_flags: &str, http_lines: &str, locations: &str) -> (Reaped, SocketAddr) {
    let port = free_port();
    let d = dir.display();
    let locations = locations.replace("{dir}", &d.to_string());
    let open_server = if http_lines.contains("server {") { http_lines.to_string() } else { format!("{http_lines}\n server {{") };
    let conf = format!(
        "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{ include /etc/nginx/mime.types; default_type application/octet-stream; access_log off; gzip on;\n{open_server} listen 127.0.0.1:{port}{listen_flags} default_server; root /var/www/html; index index.html index.htm index.nginx-debian.html; server_name _; location / {{ try_files $uri $uri/ =404; }}\n{locations} }} }}\n"
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

/// A real PHP-FPM (Debian's php8.2-fpm) listening on `dir/php.sock`, with PHP's
/// session cookie made HttpOnly and SameSite=Lax as an admin hardening a portal does.
pub fn php_fpm(dir: &Path) -> Reaped {
    let d = dir.display();
    let conf = format!(
        "[global]\npid = {d}/fpm.pid\nerror_log = {d}/fpm.log\ndaemonize = no\n[www]\nlisten = {d}/php.sock\npm = static\npm.max_children = 2\nphp_admin_value[session.save_path] = {d}\nphp_admin_value[session.cookie_httponly] = 1\nphp_admin_value[session.cookie_samesite] = Lax\n"
    );
    std::fs::write(dir.join("fpm.conf"), conf).expect("fpm.conf");
    let guard = Reaped(
        Command::new("/usr/sbin/php-fpm8.2")
            .arg("-y")
            .arg(dir.join("fpm.conf"))
            .arg("-R") // the suite may run as root
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("php-fpm must be installed: scripts/test.sh installs it"),
    );
    assert!(eventually(10, || dir.join("php.sock").exists()), "php-fpm started");
    guard
}

/// nginx passing each of `paths` (exact locations) to `script` through PHP-FPM's
/// socket in `dir`, and `.php` files as Debian's `snippets/fastcgi-php.conf` does;
/// `more` adds locations of its own (`{dir}` stands for `dir`).
pub fn nginx_php(dir: &Path, paths: &[&str], script: &Path, more: &str) -> (Reaped, SocketAddr) {
    // Debian's snippet includes fastcgi.conf relative to the configuration.
    std::fs::copy("/etc/nginx/fastcgi.conf", dir.join("fastcgi.conf")).expect("Debian's nginx ships fastcgi.conf");
    let pass = |path: &str| {
        format!(
            "location = {path} {{ include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME {}; fastcgi_pass unix:{{dir}}/php.sock; }}\n",
            script.display()
        )
    };
    let mut locations: String = paths.iter().map(|p| pass(p)).collect();
    locations.push_str("location ~ \\.php$ { include /etc/nginx/snippets/fastcgi-php.conf; fastcgi_pass unix:{dir}/php.sock; }\n");
    locations.push_str(more);
    start(dir, "", "", &locations)
}
