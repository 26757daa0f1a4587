//! Scheduling priority: threads that serve attackers yield the CPU to the threads that
//! carry events (the store writer and the sinks), so a flood of handshakes delays the
//! next handshake, not the alert about the last one.

/// The nice value of the decoys' worker threads (and the threads they start); the
/// store writer and the sinks keep the process's own.
pub const DECOY_WORKER_NICE: i32 = 5;

/// Lowers the calling thread's priority to `nice` (raising a nice value needs no
/// privilege). A refusal (a seccomp filter without `setpriority`) leaves it unchanged.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // libc calls; see the SAFETY comment
pub fn lower_this_thread(nice: i32) {
    // SAFETY: gettid has no preconditions; setpriority on this thread's own id changes
    // only its nice value (Linux applies PRIO_PROCESS to a single thread id).
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice);
    }
}

#[cfg(not(target_os = "linux"))]
pub fn lower_this_thread(_nice: i32) {}
