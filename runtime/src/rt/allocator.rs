//! mimalloc as the process's allocator, behind the `mimalloc` feature: on by default in a
//! generated crate, and `mcpgen = { ..., features = ["mimalloc"] }` for a crate of one's own.
//!
//! glibc's allocator takes a lock when a block is freed on another thread than the one that
//! allocated it, which hyper, tokio and reqwest do on every HTTP request, and two worker
//! threads waiting on each other's arenas wake each other up; mimalloc frees such a block
//! without a lock. The example server spends a quarter to a third less CPU per HTTP call with
//! it, for 1 MiB more memory (BENCHMARKS.md, "The allocator"). It is built with `no_thp`: by
//! default it asks for transparent huge pages, 8 MiB more resident for nothing measurable.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`, by number: its Rust bindings name only some options.
/// `tests/tests/allocator.rs` checks the number against mimalloc's own list of its options.
#[cfg_attr(not(feature = "mimalloc"), allow(dead_code))]
pub const PURGE_DELAY_OPTION: i32 = 15;

/// How long mimalloc keeps freed memory before handing it back to the system, in ms.
/// mimalloc 3 keeps it a second (and hands it back only on a later allocation), mimalloc 2 kept
/// it 10 ms: with a second, a GitHub server (1,223 tools) peaked at 47 MiB over its 8.5 MiB
/// `tools/list` answers where glibc's allocator peaked at 35; with 10 ms (and what was freed
/// before handed back at start, see [`configure`]), at 35, for no measurable cost per call.
#[cfg_attr(not(feature = "mimalloc"), allow(dead_code))]
pub const PURGE_DELAY_MS: i64 = 10;

/// Sets the allocator up for a server. [`run`](super::serve::run) calls it before it starts any
/// thread; without the `mimalloc` feature it does nothing.
///
/// It also hands back to the system everything freed so far: what parsing the command line
/// freed (mimalloc set it to go back a second later and does not move a deadline once set, so
/// from here on every deadline is 10 ms away), and for `cargo mcpgen serve` the mapping of the
/// document, which frees far more than the server will use again (GitHub's: without this,
/// 179 MiB stay resident after start-up; with it, 74 MiB).
pub fn configure() {
    #[cfg(feature = "mimalloc")]
    // SAFETY: `mi_option_set` writes one entry of mimalloc's option table and takes no pointer;
    // it is called before the server starts a thread that could read the entry at once.
    // `mi_collect` only returns unused memory to the system (and frees nothing in use).
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY_OPTION, PURGE_DELAY_MS as _);
        libmimalloc_sys::mi_collect(true);
    }
}
