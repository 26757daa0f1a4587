//! Memory given back when the sensor is quiet. Once nothing has been committed for
//! `QUIET`, glibc returns its free heap pages to the system (`malloc_trim`) and the
//! page mappings of the program file's code and constants are dropped (`MADV_DONTNEED`
//! on its read-only mappings that hold no page copied on write). Start-up and the last
//! flood touched most of a 20 MB program; afterwards the resident set counts what is in
//! use again, not every page once run. The file stays in the page cache, so the next
//! use maps a page back with a minor fault and no disk read, and nothing is lost: each
//! page dropped was the file's own bytes.

use std::time::Duration;

use tokio::sync::watch;

use crate::shutdown::Shutdown;

/// How long nothing must be committed before memory is given back.
pub const QUIET: Duration = Duration::from_secs(10);

/// How much the resident set may grow again while quiet before memory is given back
/// once more (connections that close late, threads that exit, free heap).
pub const REGROWTH_BYTES: u64 = 1024 * 1024;

/// How long a thread of the blocking pool (store reads, file writes) may wait for work
/// before it exits; tokio's 10 s keeps a flood's extra threads, and their stacks and
/// heap caches, through the quiet period.
pub const IDLE_THREAD_KEEP_ALIVE: Duration = Duration::from_secs(2);

/// glibc malloc arenas at most. By default glibc gives each thread that meets a locked
/// arena one of its own, up to 8 per core, and each keeps the pages its chunks are spread
/// over; after a flood the free memory is scattered across all of them.
pub const MALLOC_ARENAS: i32 = 2;

/// Free memory at the top of a heap that glibc returns to the system at once. Fixing it
/// stops glibc from raising it (and the size it serves from mmap) each time a large
/// block is freed, which would keep megabytes after a flood.
pub const MALLOC_TRIM_THRESHOLD_BYTES: i32 = 128 * 1024;

/// Sets glibc's allocator for a sensor that idles between floods (`MALLOC_ARENAS`,
/// `MALLOC_TRIM_THRESHOLD_BYTES`). Call once, before the runtimes start their threads,
/// so that every arena created later obeys the cap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
pub fn tune_allocator() {
    // SAFETY: mallopt only changes malloc's parameters, under malloc's own lock; a
    // refused value leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        libc::mallopt(libc::M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD_BYTES);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_allocator() {}

/// Gives memory back once no event has been committed for `QUIET`: after start-up,
/// after each busy spell, and again while quiet whenever the resident set has grown by
/// `REGROWTH_BYTES` since; until `shutdown`.
pub async fn give_back_when_quiet(committed: watch::Receiver<u64>, shutdown: Shutdown) {
    let (mut seen, mut since) = (*committed.borrow(), tokio::time::Instant::now());
    let mut given_back: Option<(u64, u64)> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(QUIET / 5) => {}
        }
        let head = *committed.borrow();
        if head != seen {
            (seen, since) = (head, tokio::time::Instant::now());
            continue;
        }
        if since.elapsed() < QUIET {
            continue;
        }
        let resident = resident_bytes().unwrap_or(0);
        if given_back.is_none_or(|(at, after)| at != head || resident > after + REGROWTH_BYTES) {
            let dropped = tokio::task::spawn_blocking(give_back).await.unwrap_or(0);
            tracing::debug!(code_bytes = dropped, "quiet: free heap and code mappings given back");
            given_back = Some((head, resident_bytes().unwrap_or(0)));
        }
    }
}

/// Returns free heap pages and drops the program file's page mappings; the bytes of
/// mappings dropped (0 where this is not Linux or none was found).
pub fn give_back() -> usize {
    release_free_heap();
    drop_file_mappings()
}

/// Resident set size of this process, from `/proc/self/statm` (Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    resident_from_statm(&statm, page_size())
}

/// The second field of statm is resident pages.
fn resident_from_statm(statm: &str, page_size: u64) -> Option<u64> {
    let pages: u64 = statm.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(pages.saturating_mul(page_size))
}

#[allow(unsafe_code)] // a libc call; see the SAFETY comment
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; a failure returns -1.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

/// Hands glibc's free heap pages back to the kernel (nothing elsewhere).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
pub fn release_free_heap() {
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_heap() {}

/// One mapping in `/proc/self/smaps`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping {
    start: usize,
    end: usize,
    writable: bool,
    /// Device and inode of the file mapped.
    file: (String, u64),
    /// Pages copied on write: no longer the file's bytes.
    anonymous_kib: u64,
}

fn mappings(smaps: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        if let Some(kib) = line.strip_prefix("Anonymous:") {
            if let Some(m) = out.last_mut() {
                m.anonymous_kib = kib.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(u64::MAX);
            }
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms), Some(_offset), Some(dev), Some(inode)) = (f.next(), f.next(), f.next(), f.next(), f.next()) else { continue };
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end), Ok(inode)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16), inode.parse::<u64>()) else { continue };
        if perms.len() != 4 {
            continue;
        }
        // Unknown until its Anonymous line says otherwise.
        out.push(Mapping { start, end, writable: perms.contains('w') || !perms.ends_with('p'), file: (dev.to_string(), inode), anonymous_kib: u64::MAX });
    }
    out
}

/// The ranges that may be dropped without losing a byte: mappings of the program file
/// (the one that holds this function's code) that are read-only, private and hold no
/// page copied on write, so each page is the file's own and maps back unchanged.
fn droppable(smaps: &str) -> Vec<(usize, usize)> {
    let here = droppable as *const () as usize;
    let all = mappings(smaps);
    let Some(program) = all.iter().find(|m| m.start <= here && here < m.end && m.file.1 != 0).map(|m| m.file.clone()) else { return Vec::new() };
    all.into_iter().filter(|m| m.file == program && !m.writable && m.anonymous_kib == 0).map(|m| (m.start, m.end)).collect()
}

#[cfg(target_os = "linux")]
fn drop_file_mappings() -> usize {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return 0 };
    let mut dropped = 0;
    for (start, end) in droppable(&smaps) {
        #[allow(unsafe_code)]
        // SAFETY: [start, end) maps the program file read-only and privately, and none
        // of its pages was copied on write (checked above; without write permission none
        // can be now), so MADV_DONTNEED only drops page table entries: the next access
        // maps the same bytes again from the file. The kernel refuses writes to a running
        // executable, and a package upgrade replaces the file, not its contents.
        let done = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if done == 0 {
            dropped += end - start;
        }
    }
    dropped
}

#[cfg(not(target_os = "linux"))]
fn drop_file_mappings() -> usize {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rss_file_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status.lines().find_map(|l| l.strip_prefix("RssFile:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
    }

    /// smaps text: (start, end, perms, inode, Anonymous kB) per mapping.
    fn smaps(maps: &[(usize, usize, &str, u64, u64)]) -> String {
        maps.iter()
            .map(|(s, e, perms, inode, anon)| {
                format!("{s:x}-{e:x} {perms} 00000000 fe:00 {inode}   /usr/bin/honeyward (deleted)\nRss: 8 kB\nAnonymous:  {anon} kB\nVmFlags: rd mr\n")
            })
            .collect()
    }

    #[test]
    fn statm_resident_pages_times_page_size() {
        assert_eq!(resident_from_statm("5000 1200 300 10 0 900 0\n", 4096), Some(1200 * 4096));
        assert_eq!(resident_from_statm("5000", 4096), None);
        assert_eq!(resident_from_statm("", 4096), None);
        assert_eq!(resident_from_statm("1 x 2", 4096), None);
    }

    #[test]
    fn this_process_has_resident_memory() {
        let rss = resident_bytes().expect("linux /proc");
        assert!(rss > 1024 * 1024, "{rss}");
    }

    #[test]
    fn only_the_programs_read_only_unwritten_mappings_are_dropped() {
        let here = droppable as *const () as usize;
        let (text, relro, rodata) = ((here - 0x1000, here + 0x1000), (here + 0x1000, here + 0x3000), (here - 0x3000, here - 0x1000));
        let text_ = smaps(&[
            (rodata.0, rodata.1, "r--p", 7, 0),
            (text.0, text.1, "r-xp", 7, 0),
            (relro.0, relro.1, "r--p", 7, 8),
            (here + 0x3000, here + 0x4000, "rw-p", 7, 0),
            (here + 0x5000, here + 0x6000, "r--p", 9, 0),
            (here + 0x7000, here + 0x8000, "r--s", 7, 0),
        ]);
        assert_eq!(droppable(&text_), vec![rodata, text], "not relocated data, not writable, not another file, not shared");
        assert!(droppable(&smaps(&[(text.0, text.1, "r-xp", 0, 0)])).is_empty(), "an anonymous mapping is never the program");
        let unknown = format!("{:x}-{:x} r-xp 00000000 fe:00 7   /usr/bin/honeyward\n", text.0, text.1);
        assert!(droppable(&unknown).is_empty(), "without an Anonymous line, nothing");
        assert!(droppable("garbage\n\n-\nzz-yy r-xp\nAnonymous: x kB\n").is_empty());
    }

    #[test]
    fn giving_back_drops_the_resident_code_and_the_program_runs_on() {
        let before = rss_file_kib();
        let dropped = give_back();
        let after = rss_file_kib();
        assert!(dropped > 0, "the program's mappings were found");
        assert!(after < before, "resident file pages {before} KiB -> {after} KiB");
        // Code and constant data come back from the file.
        assert_eq!(format!("{}", 6 * 7), "42");
        assert!(!droppable(&std::fs::read_to_string("/proc/self/smaps").unwrap_or_default()).is_empty());
    }
}
