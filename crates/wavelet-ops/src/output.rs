//! How the CPU kernels treat large output buffers: transparent huge pages for fresh memory,
//! streaming stores for reused memory.
//!
//! Both transforms are memory-bound: they read each input element once and write each output
//! element once, so the cost of a large call is set by how the output memory behaves.
//!
//! - **Fresh pages** (the allocator got the buffer from the kernel, e.g. glibc `mmap`s every block
//!   of 32 MiB or more): each 4 KiB page faults in on its first write. On the CI machine the
//!   faults take three quarters of a 50 MB forward; with `madvise(MADV_HUGEPAGE)` the kernel maps
//!   2 MiB pages instead (512 times fewer faults), 2-3x faster overall. The whole buffer is
//!   written at once, so huge pages waste no memory here (their usual cost).
//! - **Reused pages** (the allocator handed back freed memory): a regular store first reads the
//!   destination line from memory (read for ownership), so each output byte costs two bytes of
//!   traffic. Streaming stores skip that read and do not evict the working set for an output that
//!   does not fit in the cache anyway: about 2x faster at 50 MB on a CPU with a 32 MiB L3. An
//!   output that fits in the last-level cache is better left there for the next op (the same
//!   50 MB forward is 2.2x *slower* with streaming stores on a CPU with a 260 MiB L3), so they
//!   are used only from the size of the last-level cache (read from Linux's sysfs), and at least
//!   32 MiB.
//!
//! With glibc's default settings, blocks of 32 MiB or more are never reused (each is a fresh
//! `mmap`), so streaming stores need an allocator that keeps freed memory (`MALLOC_MMAP_MAX_=0`,
//! jemalloc, mimalloc). In a virtual machine whose host backs guest memory lazily, the first
//! huge-page faults on never-used guest memory are slow (measured 5-7x on a first 277 MB call,
//! 1.4-1.9x faster afterwards); `WAVELET_OPS_HUGE_PAGES=0` avoids that for one-shot programs.
//!
//! Which case applies is read from the page tables (`mincore` on three pages). Both are on by
//! default and can be switched off with [`set_cpu_output_policy`] or the environment (see
//! [`CpuOutputPolicy`]). Neither changes a single output value.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};

/// How the CPU kernels treat large outputs. The default turns both optimisations on; neither
/// changes results, only speed.
///
/// The first read of the policy (the first transform, or [`cpu_output_policy`]) takes its
/// default from the environment: `WAVELET_OPS_HUGE_PAGES` and `WAVELET_OPS_STREAMING_STORES`,
/// each `0`/`false`/`off` to switch the feature off or `1`/`true`/`on` to keep it (any other
/// value keeps the default). [`set_cpu_output_policy`] overrides both at any time.
///
/// ```
/// use wavelet_ops::{cpu_output_policy, set_cpu_output_policy, CpuOutputPolicy};
/// let before = cpu_output_policy();
/// set_cpu_output_policy(CpuOutputPolicy { huge_pages: false, ..before });
/// assert!(!cpu_output_policy().huge_pages);
/// set_cpu_output_policy(before);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuOutputPolicy {
    /// Linux: ask for transparent huge pages (`madvise(MADV_HUGEPAGE)` on the 2 MiB-aligned
    /// interior) for outputs of at least 4 MiB whose pages are not mapped yet. Has no effect
    /// where THP is disabled (`/sys/kernel/mm/transparent_hugepage/enabled` = `never`).
    pub huge_pages: bool,
    /// x86-64, f32 with contiguous rows of a multiple of 4 outputs: write outputs that land in
    /// already-mapped memory and are at least as large as the last-level cache (and 32 MiB) with
    /// streaming (non-temporal) stores.
    pub streaming_stores: bool,
}

impl Default for CpuOutputPolicy {
    fn default() -> Self {
        Self {
            huge_pages: true,
            streaming_stores: true,
        }
    }
}

const HUGE: u8 = 1;
const STREAM: u8 = 2;
const SET: u8 = 4;

static POLICY: AtomicU8 = AtomicU8::new(0);

/// Replaces the policy for every later call of the CPU kernels, in all threads.
pub fn set_cpu_output_policy(policy: CpuOutputPolicy) {
    POLICY.store(encode(policy), Ordering::Relaxed);
}

/// The policy in force (from the environment on first use, see [`CpuOutputPolicy`]).
///
/// ```
/// // Unless the environment or `set_cpu_output_policy` said otherwise, both are on.
/// let policy = wavelet_ops::cpu_output_policy();
/// # let _ = policy;
/// ```
pub fn cpu_output_policy() -> CpuOutputPolicy {
    let bits = POLICY.load(Ordering::Relaxed);
    if bits & SET != 0 {
        return decode(bits);
    }
    let default = CpuOutputPolicy::default();
    let policy = CpuOutputPolicy {
        huge_pages: env_switch("WAVELET_OPS_HUGE_PAGES").unwrap_or(default.huge_pages),
        streaming_stores: env_switch("WAVELET_OPS_STREAMING_STORES")
            .unwrap_or(default.streaming_stores),
    };
    // A concurrent `set_cpu_output_policy` wins over the environment.
    match POLICY.compare_exchange(0, encode(policy), Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => policy,
        Err(now) => decode(now),
    }
}

fn encode(p: CpuOutputPolicy) -> u8 {
    SET | if p.huge_pages { HUGE } else { 0 } | if p.streaming_stores { STREAM } else { 0 }
}

fn decode(bits: u8) -> CpuOutputPolicy {
    CpuOutputPolicy {
        huge_pages: bits & HUGE != 0,
        streaming_stores: bits & STREAM != 0,
    }
}

/// `Some(false)` for `0`/`false`/`off`, `Some(true)` for `1`/`true`/`on` (any case), else `None`.
fn env_switch(name: &str) -> Option<bool> {
    parse_switch(&std::env::var(name).ok()?)
}

fn parse_switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "0" | "false" | "off" => Some(false),
        "1" | "true" | "on" => Some(true),
        _ => None,
    }
}

/// Fresh outputs at least this large get huge pages (room for at least one aligned 2 MiB page).
const HUGE_MIN_BYTES: usize = 4 << 20;
/// Reused outputs get streaming stores from the size of the last-level cache, and never below
/// this (the last-level cache of common server CPUs; also the size assumed where it cannot be
/// read). Outputs that fit in the cache usually stay there for the next op, where streaming
/// stores were measured 2x slower (16 MB on a 32 MiB L3, 50 MB on a 260 MiB L3).
const STREAM_FLOOR_BYTES: usize = 32 << 20;

/// The smallest reused output written with streaming stores: the last-level cache, at least
/// [`STREAM_FLOOR_BYTES`]. Read once.
fn stream_min_bytes() -> usize {
    static MIN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MIN.get_or_init(|| {
        sys::last_level_cache_bytes().map_or(STREAM_FLOOR_BYTES, |llc| llc.max(STREAM_FLOOR_BYTES))
    })
}

/// A sysfs cache size (`32768K`, `260M`, `1G` or a plain number of bytes), in bytes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_cache_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return None,
    };
    digits.parse::<usize>().ok()?.checked_mul(1 << shift)
}

/// Prepares the uninitialised output `buf` under the current policy, before the kernels write
/// it: asks for huge pages if it is large and fresh, and returns whether the kernels should write
/// it with streaming stores (large and already mapped).
pub(crate) fn prepare<T>(buf: &mut [MaybeUninit<T>]) -> bool {
    let bytes = std::mem::size_of_val(buf);
    if bytes < HUGE_MIN_BYTES {
        return false;
    }
    let policy = cpu_output_policy();
    if !policy.huge_pages && !policy.streaming_stores {
        return false;
    }
    let ptr = buf.as_mut_ptr().cast::<u8>();
    if sys::resident(ptr, bytes) {
        policy.streaming_stores && cfg!(target_arch = "x86_64") && bytes >= stream_min_bytes()
    } else {
        if policy.huge_pages {
            sys::advise_huge_pages(ptr, bytes);
        }
        false
    }
}

/// After a kernel task wrote with streaming stores: orders them before the task's completion
/// is published to the joining thread.
pub(crate) fn end_streaming() {
    #[cfg(target_arch = "x86_64")]
    crate::simd::fence();
}

#[cfg(target_os = "linux")]
mod sys {
    /// 2 MiB, the transparent huge page size on x86-64 and (4 KiB-page) aarch64.
    const HUGE_PAGE: usize = 2 << 20;

    fn page_size() -> Option<usize> {
        // SAFETY: `sysconf` has no preconditions.
        match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => Some(p as usize),
            _ => None,
        }
    }

    /// Whether the first, middle and last pages of `[ptr, ptr + len)` are mapped (`mincore`).
    pub(super) fn resident(ptr: *mut u8, len: usize) -> bool {
        let Some(page) = page_size() else {
            return false;
        };
        let start = ptr as usize;
        [start, start + len / 2, start + len - 1]
            .iter()
            .all(|&addr| {
                let mut vec = 0u8;
                // SAFETY: the page holding `addr` belongs to the live allocation (so it is mapped),
                // and `vec` has room for the one page queried. `mincore` only reads page tables.
                let rc = unsafe {
                    libc::mincore((addr & !(page - 1)) as *mut libc::c_void, page, &mut vec)
                };
                rc == 0 && vec & 1 == 1
            })
    }

    /// The size of the highest-level data or unified cache of CPU 0, from
    /// `/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size}`; `None` if unreadable.
    pub(super) fn last_level_cache_bytes() -> Option<usize> {
        let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
        let read = |path: std::path::PathBuf| std::fs::read_to_string(path).ok();
        dir.filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
            .filter_map(|e| {
                let path = e.path();
                let level: u32 = read(path.join("level"))?.trim().parse().ok()?;
                let kind = read(path.join("type"))?;
                if kind.trim() == "Instruction" {
                    return None;
                }
                Some((level, super::parse_cache_size(&read(path.join("size"))?)?))
            })
            .max()
            .map(|(_, bytes)| bytes)
    }

    /// `madvise(MADV_HUGEPAGE)` on the 2 MiB-aligned interior of `[ptr, ptr + len)`, so that
    /// no page shared with a neighbouring allocation changes. A hint: failure is ignored.
    pub(super) fn advise_huge_pages(ptr: *mut u8, len: usize) {
        let (start, end) = (ptr as usize, ptr as usize + len);
        let first = start.next_multiple_of(HUGE_PAGE);
        let last = end / HUGE_PAGE * HUGE_PAGE;
        if last > first {
            // SAFETY: `[first, last)` lies inside the live allocation; MADV_HUGEPAGE changes
            // only how future faults there are served, never the contents.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                )
            };
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    pub(super) fn resident(_ptr: *mut u8, _len: usize) -> bool {
        false
    }

    pub(super) fn advise_huge_pages(_ptr: *mut u8, _len: usize) {}

    pub(super) fn last_level_cache_bytes() -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_parse_like_the_docs_say() {
        for off in ["0", "false", "OFF", " off "] {
            assert_eq!(parse_switch(off), Some(false), "{off:?}");
        }
        for on in ["1", "true", "On"] {
            assert_eq!(parse_switch(on), Some(true), "{on:?}");
        }
        for other in ["", "2", "yes please"] {
            assert_eq!(parse_switch(other), None, "{other:?}");
        }
    }

    #[test]
    fn policy_round_trips_through_its_encoding() {
        for huge_pages in [false, true] {
            for streaming_stores in [false, true] {
                let p = CpuOutputPolicy {
                    huge_pages,
                    streaming_stores,
                };
                assert_eq!(decode(encode(p)), p);
            }
        }
    }

    #[test]
    fn cache_sizes_parse_like_sysfs_writes_them() {
        assert_eq!(parse_cache_size("32768K\n"), Some(32 << 20));
        assert_eq!(parse_cache_size("260M"), Some(260 << 20));
        assert_eq!(parse_cache_size("1G"), Some(1 << 30));
        assert_eq!(parse_cache_size("512"), Some(512));
        for bad in ["", "K", "12Q", "-1K", "99999999999999999999G"] {
            assert_eq!(parse_cache_size(bad), None, "{bad:?}");
        }
    }

    /// The threshold is the last-level cache where it can be read, never below the floor.
    #[test]
    fn streaming_starts_at_the_last_level_cache() {
        let min = stream_min_bytes();
        assert!(min >= STREAM_FLOOR_BYTES);
        if let Some(llc) = sys::last_level_cache_bytes() {
            assert_eq!(min, llc.max(STREAM_FLOOR_BYTES));
        }
    }

    /// Freshly mapped memory is not resident until written; written memory is. Small
    /// buffers never stream.
    #[cfg(target_os = "linux")]
    #[test]
    fn residency_tells_fresh_from_written_memory() {
        let n = 40 << 20;
        // SAFETY: a private anonymous mapping of n bytes, unmapped below; only its page
        // tables are inspected and its first, middle and last bytes written.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                n,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            let p = p.cast::<u8>();
            assert!(!sys::resident(p, n), "fresh mapping reported resident");
            sys::advise_huge_pages(p, n);
            assert!(!sys::resident(p, n), "madvise must not fault pages in");
            for off in [0, n / 2, n - 1] {
                p.add(off).write(1);
            }
            assert!(sys::resident(p, n), "written mapping reported fresh");
            assert_eq!(libc::munmap(p.cast(), n), 0);
        }
        let mut small = vec![MaybeUninit::new(0f32); 1024];
        assert!(!prepare(&mut small));
        // Already written: reused memory, streamed where the policy and CPU allow and when
        // larger than the last-level cache. (Written element by element: `vec![0.0; n]` may
        // come from calloc, untouched.)
        let streams = cfg!(target_arch = "x86_64") && cpu_output_policy().streaming_stores;
        let min = stream_min_bytes();
        // (Skipped where the last-level cache is over 1 GiB, to keep the test's memory small.)
        let sizes = if min <= 1 << 30 {
            vec![(min - 4096, false), (min, true)]
        } else {
            vec![]
        };
        for (bytes, large) in sizes {
            let mut used: Vec<MaybeUninit<f32>> =
                (0..bytes / 4).map(|i| MaybeUninit::new(i as f32)).collect();
            assert_eq!(prepare(&mut used), streams && large, "{bytes} bytes");
        }
    }
}
