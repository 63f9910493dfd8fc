//! The file-descriptor budget, computed and enforced as HAProxy 2.6 does
//! (management.txt's maxconn notes, and `show info` of 2.6 under the same
//! `ulimit -n`, compared in `tests/limits.rs`): ideal maxpipes, maxconn
//! and maxsock, then the `RLIMIT_NOFILE` setting.
//!
//! ```text
//!   base   = 10 + listeners + servers with `check` + stats maxconn (if any
//!            stats socket) + 1 in master-worker mode (the worker's socketpair)
//!   maxconn = -n | global maxconn | ideal:
//!            remain = max(soft, hard) at boot, capped by fd-hard-limit
//!                     - base - 3 * nbthread
//!            pipes  = ideal maxpipes (-1: a splicing proxy has no limit)
//!            pipes >= 0: maxconn = (remain - 2 * pipes) / 2
//!            pipes <  0: maxconn = 2 * remain / 5     (half a pipe per conn)
//!            at least 100
//!   maxpipes = global maxpipes | ideal maxpipes for that maxconn
//!   maxsock  = base + 2 * maxconn + 2 * maxpipes + 3 * nbthread
//!   RLIMIT_NOFILE soft := ulimit-n | maxsock   (raised, never lowered)
//! ```
//!
//! `nbthread` is 2.6's (the configured value, else the CPUs the process may
//! run on) although haproxy-rs runs one thread: the derived `maxconn` is
//! then the one 2.6 derives on the same machine, and the unused per-thread
//! fds are slack.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::cfg::model::Config;

/// `DEFAULT_MAXCONN`: the least derived maxconn, even when the fds lack.
const DEFAULT_MAXCONN: i64 = 100;
/// Fds HAProxy keeps for itself before any listener (`global.maxsock = 10`).
const BASE_RESERVE: u64 = 10;
/// `MAX_THREADS` on 64-bit builds: the most threads 2.6 starts by default.
const MAX_THREADS: u32 = 64;

/// A proxy that may splice (`option splice-auto|splice-request|
/// splice-response`), as the ideal maxpipes counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplicePx {
    /// Frontend capability: its maxconn (0: none, i.e. unlimited).
    pub fe: Option<u32>,
    /// Backend capability: its fullconn (0: the global maxconn).
    pub be: Option<u32>,
}

/// What the fd budget depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitInputs {
    /// `RLIMIT_NOFILE` at boot.
    pub soft: u64,
    pub hard: u64,
    /// `fd-hard-limit` (0: none).
    pub fd_hard_limit: u64,
    /// `-n`, else `global maxconn` (None: derive it).
    pub maxconn: Option<u32>,
    /// `global maxpipes` (0: derive it).
    pub maxpipes: u32,
    /// `ulimit-n` (0: use maxsock).
    pub ulimit_n: u64,
    /// Threads as 2.6 counts them (one poller fd and a wake-up pipe each).
    pub nbthread: u32,
    /// Fds taken before connections: the reserve, listeners, checks, CLI.
    pub base: u64,
    /// The proxies using splicing.
    pub splice: Vec<SplicePx>,
}

/// The computed budget (`show info`: Maxconn, Maxpipes, Maxsock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub maxconn: u32,
    pub maxpipes: u32,
    pub maxsock: u64,
    /// The soft `RLIMIT_NOFILE` to set: `ulimit-n`, else `maxsock`; after
    /// [`apply_nofile`], the limit in force as 2.6 counts it (`show info`
    /// Ulimit-n).
    pub nofile: u64,
}

/// The ideal maxpipes: a quarter of the connections that may
/// splice, -1 when one splicing proxy is unlimited and no global maxconn
/// is known yet.
fn ideal_maxpipes(splice: &[SplicePx], global_maxconn: u32) -> i64 {
    let (mut nbfe, mut nbbe, mut unlimited) = (0i64, 0i64, false);
    for p in splice {
        if let Some(max) = p.fe {
            nbfe += max as i64;
            if max == 0 {
                unlimited = true;
                break;
            }
        }
        if let Some(fullconn) = p.be {
            let max = if fullconn > 0 {
                fullconn
            } else {
                global_maxconn
            };
            nbbe += max as i64;
            if max == 0 {
                unlimited = true;
                break;
            }
        }
    }
    let mut pipes = nbfe.max(nbbe);
    if global_maxconn > 0 {
        if pipes > global_maxconn as i64 || unlimited {
            pipes = global_maxconn as i64;
        }
    } else if unlimited {
        pipes = -1;
    }
    if pipes >= 4 { pipes / 4 } else { pipes }
}

/// The ideal maxconn: what the fd limit allows once the base fds
/// and the pipes are set aside; never below 100.
fn ideal_maxconn(i: &LimitInputs) -> u32 {
    let mut remain = i.soft.max(i.hard) as i64;
    if i.fd_hard_limit > 0 && remain > i.fd_hard_limit as i64 {
        remain = i.fd_hard_limit as i64;
    }
    remain -= i.base as i64 + 3 * i.nbthread as i64;
    let pipes = ideal_maxpipes(&i.splice, i.maxconn.unwrap_or(0));
    // Fixed pipes are only set aside when they fit: pipes are optional.
    if pipes >= 0 && pipes * 2 < remain {
        remain -= pipes * 2;
    }
    let maxconn = if pipes < 0 {
        // maxsock = maxconn * 2 + maxconn / 4 * 2 = maxconn * 5 / 2
        2 * remain / 5
    } else {
        remain / 2
    };
    maxconn.clamp(DEFAULT_MAXCONN, i32::MAX as i64) as u32
}

/// The budget for `i`. Pure: the caller reads the limits and applies them.
pub fn derive_limits(i: &LimitInputs) -> Limits {
    let maxconn = i.maxconn.unwrap_or_else(|| ideal_maxconn(i));
    let maxpipes = match i.maxpipes {
        0 => ideal_maxpipes(&i.splice, maxconn).max(0) as u32,
        n => n,
    };
    let maxsock = i.base + 2 * maxconn as u64 + 2 * maxpipes as u64 + 3 * i.nbthread as u64;
    Limits {
        maxconn,
        maxpipes,
        maxsock,
        nofile: if i.ulimit_n > 0 { i.ulimit_n } else { maxsock },
    }
}

/// The threads 2.6 would start: `nbthread`, else one per CPU the process
/// may run on (at most 64).
fn nbthread_26(configured: u32) -> u32 {
    if configured > 0 {
        return configured;
    }
    // SAFETY: a zeroed cpu_set_t is a valid (empty) set, written by the call.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid for writing `size_of::<cpu_set_t>()` bytes.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r != 0 {
        return 1;
    }
    // SAFETY: `set` is an initialized cpu_set_t.
    let n = unsafe { libc::CPU_COUNT(&set) };
    (n as u32).clamp(1, MAX_THREADS)
}

/// The inputs for `cfg` run with `-n maxconn` (if given), `-N pxconn`,
/// under the fd limits `soft`/`hard`; `master` adds the worker's
/// socketpair with the master.
pub fn inputs(
    cfg: &Config,
    maxconn: Option<u32>,
    pxconn: u32,
    master: bool,
    (soft, hard): (u64, u64),
) -> LimitInputs {
    let g = &cfg.global;
    let mut base = BASE_RESERVE + master as u64;
    let mut splice = Vec::new();
    for p in cfg.proxies.iter().filter(|p| !p.disabled) {
        base += p.binds.iter().map(|b| b.addrs.len() as u64).sum::<u64>();
        base += p.servers.iter().filter(|s| s.check).count() as u64;
        if p.opts.splice_auto || p.opts.splice_request || p.opts.splice_response {
            splice.push(SplicePx {
                fe: p
                    .cap
                    .fe
                    .then_some(if p.maxconn > 0 { p.maxconn } else { pxconn }),
                be: p.cap.be.then_some(p.fullconn),
            });
        }
    }
    if !g.stats_sockets.is_empty() {
        base += g.stats_sockets.len() as u64 + g.stats_maxconn as u64;
    }
    LimitInputs {
        soft,
        hard,
        fd_hard_limit: g.fd_hard_limit,
        maxconn: maxconn.or((g.maxconn > 0).then_some(g.maxconn)),
        maxpipes: g.maxpipes,
        ulimit_n: g.ulimit_n,
        nbthread: nbthread_26(g.nbthread),
        base,
        splice,
    }
}

/// Why the fd limit could not be set: the message of 2.6's alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NofileRefused(pub String);

/// Raises the soft `RLIMIT_NOFILE` to `l.nofile` (with the hard limit
/// raised to it when permitted), as 2.6 does; a soft limit already higher
/// is kept (2.6.12 never lowers it, although `show info` then reports
/// `l.nofile` as Ulimit-n). When the limit cannot be reached (above
/// `fd_hard_limit`, or above a hard limit we may not raise):
/// - `strict` (`strict-limits`, the default): Err with
///   `Cannot raise FD limit to <nofile>, limit is <soft>.`;
/// - else: the soft limit goes to the hard one, which becomes `l.nofile`,
///   and Ok with the warning and, when that is below `maxsock`, the
///   `FD limit (...) too low` alert, for the caller to print.
///
/// `hard_at_boot` is the hard limit before any change.
pub fn apply_nofile(
    l: &mut Limits,
    fd_hard_limit: u64,
    strict: bool,
    hard_at_boot: u64,
) -> Result<Vec<(crate::cfg::diag::Level, String)>, NofileRefused> {
    use crate::cfg::diag::Level;
    let want = l.nofile;
    let over_fhl = fd_hard_limit > 0 && want > fd_hard_limit;
    let (soft, _) = crate::process::nofile();
    if !over_fhl
        && (want <= soft || crate::process::set_nofile(want, hard_at_boot.max(want)).is_ok())
    {
        return Ok(Vec::new());
    }
    let (mut cur, max) = crate::process::nofile();
    if fd_hard_limit > 0 && cur > fd_hard_limit {
        cur = fd_hard_limit;
    }
    if strict {
        return Err(NofileRefused(format!(
            "Cannot raise FD limit to {want}, limit is {cur}."
        )));
    }
    // 2.6.12 goes to the hard limit here, fd-hard-limit or not.
    let _ = crate::process::set_nofile(max, max);
    let cur = crate::process::nofile().0;
    l.nofile = cur;
    let mut msgs = vec![(
        Level::Warning,
        format!("Cannot raise FD limit to {want}, limit is {cur}."),
    )];
    if cur < l.maxsock {
        msgs.push((
            Level::Alert,
            format!(
                "FD limit ({cur}) too low for maxconn={}/maxsock={}. Please raise 'ulimit-n' to {} or more to avoid any trouble.",
                l.maxconn, l.maxsock, l.maxsock
            ),
        ));
    }
    Ok(msgs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One listener, one stats socket (maxconn 10), 2 threads: the base
    /// of most measurements against 2.6.12 on a 2-CPU machine.
    fn base(limit: u64) -> LimitInputs {
        LimitInputs {
            soft: limit,
            hard: limit,
            nbthread: 2,
            base: 10 + 1 + 1 + 10,
            ..Default::default()
        }
    }

    fn unlimited_listen() -> Vec<SplicePx> {
        vec![SplicePx {
            fe: Some(0),
            be: Some(0),
        }]
    }

    #[test]
    fn derived_maxconn_matches_haproxy_26() {
        // (limit, extra listeners, splice) -> (Maxconn, Maxpipes, Maxsock)
        // as `show info` of HAProxy 2.6.12 reported them.
        let cases = [
            (256, 0, false, (114, 0, 256)),
            (256, 2, false, (113, 0, 256)),
            (1024, 0, false, (498, 0, 1024)),
            (1024, 2, false, (497, 0, 1024)),
            (1024, 0, true, (398, 99, 1022)),
            (1024, 2, true, (397, 99, 1022)),
            (20000, 0, false, (9986, 0, 20000)),
            (20000, 2, false, (9985, 0, 20000)),
            (20000, 0, true, (7988, 1997, 19998)),
            (20000, 2, true, (7988, 1997, 20000)),
            (128, 0, false, (100, 0, 228)),
            (256, 0, true, (100, 25, 278)),
        ];
        for (limit, extra, splice, (mc, mp, ms)) in cases {
            let mut i = base(limit);
            i.base += extra;
            if splice {
                i.splice = unlimited_listen();
            }
            let l = derive_limits(&i);
            assert_eq!(
                (l.maxconn, l.maxpipes, l.maxsock),
                (mc, mp, ms),
                "limit {limit} +{extra} listeners splice {splice}"
            );
            assert_eq!(l.nofile, l.maxsock);
        }
    }

    #[test]
    fn the_higher_of_soft_and_hard_limit_counts() {
        let mut i = base(1024);
        i.soft = 256;
        assert_eq!(derive_limits(&i).maxconn, 498);
    }

    #[test]
    fn fd_hard_limit_caps_the_derived_maxconn_only_when_lower() {
        let mut i = base(20000);
        i.fd_hard_limit = 1000;
        assert_eq!(derive_limits(&i).maxconn, 486);
        let mut i = base(1024);
        i.fd_hard_limit = 50000;
        assert_eq!(derive_limits(&i).maxconn, 498);
        let mut i = base(20000);
        i.fd_hard_limit = 1000;
        i.splice = unlimited_listen();
        let l = derive_limits(&i);
        assert_eq!((l.maxconn, l.maxpipes, l.maxsock), (388, 97, 998));
    }

    #[test]
    fn configured_maxconn_sets_maxsock_and_ulimit() {
        let mut i = base(20000);
        i.maxconn = Some(400);
        let l = derive_limits(&i);
        assert_eq!((l.maxconn, l.maxsock, l.nofile), (400, 828, 828));
        i.ulimit_n = 500;
        assert_eq!(derive_limits(&i).nofile, 500);
        // ulimit-n does not change the derived maxconn.
        let mut i = base(20000);
        i.ulimit_n = 500;
        assert_eq!(derive_limits(&i).maxconn, 9986);
    }

    #[test]
    fn maxpipes_counts_in_maxsock_even_without_splicing() {
        let mut i = base(1024);
        i.maxpipes = 50;
        let l = derive_limits(&i);
        assert_eq!((l.maxconn, l.maxsock), (498, 1124));
        i.splice = unlimited_listen();
        let l = derive_limits(&i);
        assert_eq!((l.maxconn, l.maxpipes, l.maxsock), (398, 50, 924));
    }

    #[test]
    fn limited_splicing_proxies_set_aside_a_quarter_of_their_connections() {
        // listen maxconn 300, fullconn 200, option splice-auto
        let mut i = base(1024);
        i.splice = vec![SplicePx {
            fe: Some(300),
            be: Some(200),
        }];
        let l = derive_limits(&i);
        assert_eq!((l.maxconn, l.maxpipes, l.maxsock), (423, 75, 1024));
        // A frontend with its maxconn but a backend without fullconn is
        // unlimited (the backend follows the global maxconn).
        i.splice = vec![SplicePx {
            fe: Some(300),
            be: Some(0),
        }];
        assert_eq!(derive_limits(&i).maxconn, 398);
    }

    #[test]
    fn threads_and_checks_take_fds() {
        let mut i = base(1024);
        i.nbthread = 1;
        assert_eq!(derive_limits(&i).maxconn, 499);
        i.nbthread = 4;
        assert_eq!(derive_limits(&i).maxconn, 495);
        let mut i = base(1024);
        i.base += 1; // a server with `check`
        assert_eq!(derive_limits(&i).maxconn, 497);
    }

    #[test]
    fn ideal_maxpipes_follows_haproxy() {
        assert_eq!(ideal_maxpipes(&[], 0), 0);
        assert_eq!(ideal_maxpipes(&unlimited_listen(), 0), -1);
        assert_eq!(ideal_maxpipes(&unlimited_listen(), 398), 99);
        let small = [SplicePx {
            fe: Some(3),
            be: None,
        }];
        assert_eq!(ideal_maxpipes(&small, 0), 3);
    }
}
