//! Section 3: TCP decoy connections per second.
#![allow(unused_imports)]

use super::*;

// ---------------------------------------------------------------------------------
// 3. TCP decoy connections per second

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Server {
    /// honeyward itself via `app::start`.
    Honeyward,
    /// A minimal tokio server doing the same protocol but recording nothing: the
    /// ceiling this machine and client reach for connect → banner → close.
    Baseline,
}

pub(crate) struct TcpRun {
    pub(crate) server: Server,
    pub(crate) sync: &'static str,
    pub(crate) separate: bool,
    /// Client closes with SO_LINGER 0 (RST) instead of FIN: no TIME_WAIT on the client.
    pub(crate) rst: bool,
    /// Client source addresses used round-robin: 127.0.0.1 ..= 127.0.0.N.
    pub(crate) sources: u8,
}

impl TcpRun {
    pub(crate) fn label(&self) -> String {
        let server = match self.server {
            Server::Honeyward => format!("honeyward sync {}", self.sync),
            Server::Baseline => "baseline tokio server".to_string(),
        };
        let client = if self.separate { "client process" } else { "same process" };
        let close = if self.rst { "RST close" } else { "FIN close" };
        let src = if self.sources > 1 { format!(", {} src IPs", self.sources) } else { String::new() };
        format!("{server}, {client}, {close}{src}")
    }
}

#[derive(Default, Debug)]
pub(crate) struct ClientResult {
    pub(crate) completed: u64,
    pub(crate) connect_errors: u64,
    pub(crate) read_errors: u64,
    pub(crate) secs: f64,
    /// Completed connections in each whole second of the run.
    pub(crate) timeline: Vec<u64>,
}

/// `clients` tasks loop connect → read the whole banner → close, until `total`
/// connections have been started or `limit` has passed.
pub(crate) async fn run_client(addr: SocketAddr, total: u64, limit: Duration, clients: usize, banner_len: usize, rst: bool, sources: u8) -> ClientResult {
    let started = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let connect_errors = Arc::new(AtomicU64::new(0));
    let read_errors = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let deadline = t0 + limit;
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (started, completed, connect_errors, read_errors) = (started.clone(), completed.clone(), connect_errors.clone(), read_errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; banner_len];
            loop {
                let k = started.fetch_add(1, Ordering::Relaxed);
                if k >= total || Instant::now() >= deadline {
                    break;
                }
                let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
                let source = Ipv4Addr::new(127, 0, 0, 1 + (k % u64::from(sources.max(1))) as u8);
                let stream = match tokio::time::timeout(left.min(Duration::from_secs(5)), connect_from(source, sources > 1, addr)).await {
                    Ok(Ok(s)) => s,
                    _ => {
                        connect_errors.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let mut stream = stream;
                match tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf)).await {
                    Ok(Ok(_)) => {
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        read_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if rst {
                    let _ = stream.set_zero_linger();
                }
                drop(stream);
            }
        }));
    }
    // Sample progress once a second (bounded by the run's deadline plus the 10 s of
    // per-operation timeouts a task can still be in).
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (completed, done) = (completed.clone(), done.clone());
        tokio::spawn(async move {
            let mut timeline = Vec::new();
            let mut last = 0;
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
            for _ in 0..(limit.as_secs() + 11) {
                tick.tick().await;
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let now = completed.load(Ordering::Relaxed);
                timeline.push(now - last);
                last = now;
            }
            timeline
        })
    };
    for t in tasks {
        let _ = t.await;
    }
    let secs = t0.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let mut timeline = sampler.await.unwrap_or_default();
    let whole = secs.floor() as usize;
    timeline.truncate(whole);
    ClientResult {
        completed: completed.load(Ordering::Relaxed),
        connect_errors: connect_errors.load(Ordering::Relaxed),
        read_errors: read_errors.load(Ordering::Relaxed),
        secs,
        timeline,
    }
}
/// Connects to `addr`; with `bind`, from `source` (port chosen at connect time, so
/// each source address has its own ephemeral-port space).
#[allow(unsafe_code)] // libc calls; see the SAFETY comments
pub(crate) async fn connect_from(source: Ipv4Addr, bind: bool, addr: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    if !bind {
        return tokio::net::TcpStream::connect(addr).await;
    }
    use std::os::fd::AsRawFd;
    let socket = tokio::net::TcpSocket::new_v4()?;
    let one: libc::c_int = 1;
    // SAFETY: setsockopt on a socket we own, with a correctly sized int option.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(addr).await
}

/// Entry point of the child process: spec is `ADDR,TOTAL,SECS,CLIENTS,BANNER_LEN,RST,SOURCES`;
/// prints `completed connect_errors read_errors secs t1 t2 ...` on stdout.
pub(crate) fn client_process_main(spec: &str) -> i32 {
    let parts: Vec<&str> = spec.split(',').collect();
    let parsed = (|| -> Option<(SocketAddr, u64, u64, usize, usize, bool, u8)> {
        Some((
            parts.first()?.parse().ok()?,
            parts.get(1)?.parse().ok()?,
            parts.get(2)?.parse().ok()?,
            parts.get(3)?.parse().ok()?,
            parts.get(4)?.parse().ok()?,
            parts.get(5)?.parse().ok()?,
            parts.get(6)?.parse().ok()?,
        ))
    })();
    let Some((addr, total, secs, clients, banner_len, rst, sources)) = parsed else {
        eprintln!("bad client spec {spec:?}");
        return 2;
    };
    if !addr.ip().is_loopback() {
        eprintln!("refusing non-loopback target {addr}");
        return 2;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return 2;
        }
    };
    let r = rt.block_on(run_client(addr, total, Duration::from_secs(secs), clients, banner_len, rst, sources));
    let timeline: Vec<String> = r.timeline.iter().map(u64::to_string).collect();
    println!("{} {} {} {} {}", r.completed, r.connect_errors, r.read_errors, r.secs, timeline.join(" "));
    0
}

pub(crate) async fn client_in_child(addr: SocketAddr, total: u64, limit: Duration, clients: usize, rst: bool, sources: u8) -> Res<ClientResult> {
    let exe = std::env::current_exe()?;
    let spec = format!("{addr},{total},{},{clients},{},{rst},{sources}", limit.as_secs().max(1), BANNER.len());
    let wait_limit = limit + Duration::from_secs(30);
    let out = tokio::task::spawn_blocking(move || -> Res<std::process::Output> {
        let mut child = std::process::Command::new(exe)
            .env(CLIENT_ROLE_VAR, spec)
            .env_remove("HW_BENCH_ONLY")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let deadline = Instant::now() + wait_limit;
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("client process timed out".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(child.wait_with_output()?)
    })
    .await??;
    if !out.status.success() {
        return Err(format!("client process failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).ok_or_else(|| format!("bad client output {text:?}"));
    Ok(ClientResult {
        completed: num(0)?,
        connect_errors: num(1)?,
        read_errors: num(2)?,
        secs: f.get(3).and_then(|s| s.parse().ok()).ok_or("bad client secs")?,
        timeline: f.iter().skip(4).filter_map(|s| s.parse().ok()).collect(),
    })
}

/// CPU seconds (user + system) per thread name in this process, and for the whole
/// process (dead threads included).
#[allow(unsafe_code)] // libc calls; see the SAFETY comments
pub(crate) fn process_cpu() -> (f64, Vec<(String, f64)>) {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let parse = |text: &str| -> Option<(String, f64)> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let name = text[open + 1..close].to_string();
        let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
        // After the name: state is field 3; utime is field 14 and stime field 15.
        let utime: f64 = rest.get(11)?.parse().ok()?;
        let stime: f64 = rest.get(12)?.parse().ok()?;
        Some((name, (utime + stime) / hz))
    };
    let total = std::fs::read_to_string("/proc/self/stat").ok().and_then(|t| parse(&t)).map_or(0.0, |p| p.1);
    let mut threads: Vec<(String, f64)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            if let Some((name, secs)) = std::fs::read_to_string(entry.path().join("stat")).ok().and_then(|t| parse(&t)) {
                match threads.iter_mut().find(|(n, _)| *n == name) {
                    Some(t) => t.1 += secs,
                    None => threads.push((name, secs)),
                }
            }
        }
    }
    (total, threads)
}

/// Live `store-writer` threads of this process: (CPU seconds, voluntary context
/// switches, i.e. how often the writer went to sleep and was woken again).
pub(crate) fn writer_thread_stats() -> (f64, u64) {
    let (_, threads) = process_cpu();
    let cpu = threads.iter().find(|t| t.0 == "store-writer").map_or(0.0, |t| t.1);
    let mut switches = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else { continue };
            if status.lines().next().is_some_and(|l| l.trim_start_matches("Name:").trim() == "store-writer") {
                switches += status
                    .lines()
                    .find(|l| l.starts_with("voluntary_ctxt_switches:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    (cpu, switches)
}

/// CPU seconds used by waited-for child processes so far.
#[allow(unsafe_code)] // libc calls; see the SAFETY comments
pub(crate) fn children_cpu() -> f64 {
    // SAFETY: getrusage writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Waits (bounded) until at most `max` TIME_WAIT sockets are left; returns the time waited.
pub(crate) fn settle_time_wait(max: u64, limit: Duration) -> Duration {
    let t = Instant::now();
    while time_wait_sockets() > max && t.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
    }
    t.elapsed()
}

/// Flushes dirty pages to disk and pauses briefly, so a section starts on a quiet disk.
#[allow(unsafe_code)] // libc calls; see the SAFETY comments
pub(crate) fn settle_disk() {
    // SAFETY: sync(2) has no arguments and cannot fail.
    unsafe { libc::sync() };
    std::thread::sleep(Duration::from_secs(2));
}

/// TIME_WAIT sockets on this machine (from /proc/net/sockstat).
pub(crate) fn time_wait_sockets() -> u64 {
    std::fs::read_to_string("/proc/net/sockstat")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("TCP:"))?.to_string();
            let words: Vec<&str> = line.split_whitespace().collect();
            let i = words.iter().position(|w| *w == "tw")?;
            words.get(i + 1)?.parse().ok()
        })
        .unwrap_or(0)
}

pub(crate) struct StoreCounts {
    pub(crate) opened: u64,
    pub(crate) closed: u64,
    pub(crate) unpaired_sessions: u64,
    pub(crate) refused_events: u64,
}

pub(crate) struct TcpResult {
    pub(crate) client: ClientResult,
    pub(crate) rate: f64,
    pub(crate) cpu: String,
    pub(crate) store: Option<StoreCounts>,
    pub(crate) served: u64,
    pub(crate) stop_secs: f64,
}

/// Minimal tokio banner server: accept → nodelay → banner → read until EOF → close.
pub(crate) async fn baseline_server(listener: tokio::net::TcpListener, stop: honeyward::shutdown::Shutdown, served: Arc<AtomicU64>) {
    use tokio::io::AsyncWriteExt;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            r = listener.accept() => r,
        };
        let Ok((mut stream, _)) = accepted else { continue };
        let served = served.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            if stream.write_all(BANNER.as_bytes()).await.is_ok() {
                let mut buf = [0u8; 8192];
                while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
                    if n == 0 {
                        break;
                    }
                }
            }
            served.fetch_add(1, Ordering::Relaxed);
        });
    }
}

pub(crate) async fn tcp_conn_rate(run: &TcpRun, total: u64, limit: Duration, clients: usize) -> Res<TcpResult> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    let served = Arc::new(AtomicU64::new(0));
    let (addr, running, baseline_stop) = match run.server {
        Server::Honeyward => {
            let yaml = format!(
                "sensor:\n  name: bench\nstore:\n  path: {}\n  sync: {}\ndecoys:\n  - name: bench-tcp\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: {:?}\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n",
                db.display(),
                run.sync,
                BANNER
            );
            let config = parse_config(&yaml)?;
            let running = honeyward::app::start(config, honeyward::shutdown::Shutdown::new()).await?;
            let addr = running.listeners.first().ok_or("no listener")?.addr;
            (addr, Some(running), None)
        }
        Server::Baseline => {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
            let listener = socket.listen(4096)?;
            let addr = listener.local_addr()?;
            let stop = honeyward::shutdown::Shutdown::new();
            tokio::spawn(baseline_server(listener, stop.clone(), served.clone()));
            (addr, None, Some(stop))
        }
    };
    if !addr.ip().is_loopback() {
        return Err(format!("server bound to non-loopback {addr}").into());
    }

    let (cpu0, threads0) = process_cpu();
    let child0 = children_cpu();
    let wake0 = writer_thread_stats().1;
    let client = if run.separate {
        client_in_child(addr, total, limit, clients, run.rst, run.sources).await?
    } else {
        run_client(addr, total, limit, clients, BANNER.len(), run.rst, run.sources).await
    };
    let (cpu1, threads1) = process_cpu();
    let child1 = children_cpu();
    let wake1 = writer_thread_stats().1;
    let rate = client.completed as f64 / client.secs;
    let writer0 = threads0.iter().find(|t| t.0 == "store-writer").map_or(0.0, |t| t.1);
    let writer1 = threads1.iter().find(|t| t.0 == "store-writer").map_or(0.0, |t| t.1);
    let budget = client.secs * cpus() as f64;
    let who = if run.separate { "server process" } else { "server + client (one process)" };
    let mut cpu = format!("{who} {:.2} s", cpu1 - cpu0);
    if run.server == Server::Honeyward {
        cpu.push_str(&format!(" (store-writer thread {:.2} s, {} sleeps/wakeups)", writer1 - writer0, wake1 - wake0));
    }
    if run.separate {
        cpu.push_str(&format!(", client process {:.2} s", child1 - child0));
    }
    cpu.push_str(&format!(", of {:.2} CPU-s available ({:.2} s × {} cores)", budget, client.secs, cpus()));

    let t = Instant::now();
    let store = if let Some(running) = running {
        running.stop();
        tokio::time::timeout(Duration::from_secs(120), running.wait()).await.map_err(|_| "app did not stop within 120 s")?;
        Some(count_connections(&db)?)
    } else {
        if let Some(stop) = baseline_stop {
            stop.cancel();
        }
        None
    };
    let stop_secs = t.elapsed().as_secs_f64();
    Ok(TcpResult { client, rate, cpu, store, served: served.load(Ordering::Relaxed), stop_secs })
}

pub(crate) fn count_connections(db: &Path) -> Res<StoreCounts> {
    let id = |name: &str| EventKind::id_of(name).map(i64::from).ok_or_else(|| format!("unknown kind {name}"));
    let (opened_id, closed_id, refused_id) = (id("connection_opened")?, id("connection_closed")?, id("connections_refused")?);
    // Cross-check through the public reader as well as raw SQL.
    let reader = honeyward::store::StoreReader::open(db, false)?;
    let max_seq = reader.max_seq()?;
    drop(reader);
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count = |kind: i64| -> Res<u64> { Ok(conn.query_row("SELECT count(*) FROM events WHERE kind = ?1", [kind], |r| r.get::<_, i64>(0))? as u64) };
    let (opened, closed, refused_events) = (count(opened_id)?, count(closed_id)?, count(refused_id)?);
    let unpaired: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT session, sum(kind = ?1) AS o, sum(kind = ?2) AS c FROM events
           WHERE kind IN (?1, ?2) GROUP BY session) WHERE o != 1 OR c != 1",
        [opened_id, closed_id],
        |r| r.get(0),
    )?;
    let all: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    if all as u64 != max_seq {
        return Err(format!("store has {all} events but max seq {max_seq}").into());
    }
    Ok(StoreCounts { opened, closed, unpaired_sessions: unpaired as u64, refused_events })
}
