//! Load-balancing algorithms (configuration.txt 4.2, "balance").
//!
//! Each picks a usable, non-full server among the active ones, or among the
//! backup ones when no active server is usable (the first backup only, unless
//! `option allbackups`, which haproxy-rs does not implement). `None` with
//! usable-but-full servers means "queue in the backend"; `None` with nothing
//! usable means "no server" (503 / `SC`).
//!
//! `pick` runs once per connection and allocates nothing: the candidate and
//! free sets are predicates over server indexes (`Farm`), walked in index
//! order by each algorithm (a unit test checks it against the former
//! Vec-based version on random farms, and counts allocations).

use super::{Proxy, Server};
use crate::cfg::model::Balance;
use std::net::IpAddr;

/// What the LB decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Use this server index.
    Server(usize),
    /// Usable servers exist but all are full: wait in the backend queue.
    Queue,
    /// No usable server at all.
    NoServer,
}

/// Which servers a pick may consider, computed once per pick without
/// allocating: the sets are predicates over server indexes, and every
/// algorithm walks `0..servers.len()` in index order through them.
///
/// - candidates: the usable active servers, or, when none is usable, the
///   first usable backup alone;
/// - free: the candidates below their `maxconn`, minus `skip`.
#[derive(Debug, Clone, Copy)]
struct Farm {
    /// Some active server is usable (else only `backup` is a candidate).
    any_active: bool,
    /// The first usable backup server.
    backup: Option<usize>,
    /// The server to avoid (redispatch), set only when another free one
    /// exists.
    skip: Option<usize>,
}

impl Farm {
    fn is_candidate(&self, servers: &[Server], i: usize) -> bool {
        if self.any_active {
            servers.get(i).is_some_and(|s| !s.backup && s.usable())
        } else {
            self.backup == Some(i)
        }
    }

    fn is_free(&self, servers: &[Server], i: usize) -> bool {
        self.is_candidate(servers, i)
            && servers.get(i).is_some_and(|s| !s.full())
            && self.skip != Some(i)
    }

    /// The candidates, in index order.
    fn candidates<'a>(&self, servers: &'a [Server]) -> impl Iterator<Item = usize> + 'a {
        let farm = *self;
        (0..servers.len()).filter(move |&i| farm.is_candidate(servers, i))
    }

    /// The free servers, in index order.
    fn free<'a>(&self, servers: &'a [Server]) -> impl Iterator<Item = usize> + 'a {
        let farm = *self;
        (0..servers.len()).filter(move |&i| farm.is_free(servers, i))
    }
}

/// Picks a server for a new connection. `avoid` is a server to skip when
/// another one exists (redispatch); `src` feeds `balance source`. Updates
/// the algorithm's state (`rr_current`, `lb_cursor`) and allocates nothing.
pub fn pick(px: &mut Proxy, src: Option<IpAddr>, avoid: Option<usize>) -> Pick {
    let servers = &px.servers;
    let any_active = servers.iter().any(|s| !s.backup && s.usable());
    let backup = if any_active {
        None
    } else {
        // First usable backup only (HAProxy's default without allbackups).
        servers.iter().position(|s| s.backup && s.usable())
    };
    let mut farm = Farm {
        any_active,
        backup,
        skip: None,
    };
    if farm.candidates(servers).next().is_none() {
        return Pick::NoServer;
    }
    let nfree = farm.free(servers).take(2).count();
    if nfree == 0 {
        return Pick::Queue;
    }
    if nfree > 1 {
        farm.skip = avoid;
    }
    let chosen = match px.balance {
        Balance::RoundRobin | Balance::StaticRr => smooth_wrr(&mut px.servers, farm),
        Balance::LeastConn => leastconn(px, farm),
        Balance::First => first(&px.servers, farm),
        Balance::Source => source_hash(&px.servers, farm, src),
    };
    match chosen {
        Some(i) => Pick::Server(i),
        None => Pick::Queue,
    }
}

/// Smooth weighted round-robin: every free server gains its weight, the
/// largest current value wins and pays the total. Gives each server its
/// share in an evenly interleaved order (e.g. weights 3/1: a a b a ...).
fn smooth_wrr(servers: &mut [Server], farm: Farm) -> Option<usize> {
    let mut total: i64 = 0;
    let mut best: Option<(usize, i64)> = None;
    for i in 0..servers.len() {
        if !farm.is_free(servers, i) {
            continue;
        }
        let Some(s) = servers.get_mut(i) else {
            continue;
        };
        s.rr_current += i64::from(s.weight);
        total += i64::from(s.weight);
        // Largest current value wins; on a tie the lowest index.
        if best.is_none_or(|(_, cur)| s.rr_current > cur) {
            best = Some((i, s.rr_current));
        }
    }
    let (b, _) = best?;
    if let Some(s) = servers.get_mut(b) {
        s.rr_current -= total;
    }
    Some(b)
}

/// Lowest load (cur_sess / weight); ties rotate from the cursor so equal
/// servers share the traffic in turn.
fn leastconn(px: &mut Proxy, farm: Farm) -> Option<usize> {
    let servers = &px.servers;
    let n = servers.len().max(1);
    let start = px.lb_cursor % n;
    let rank = |i: usize| (i + n - start) % n;
    let load = |i: usize| servers.get(i).map_or((0, 1), |s| (s.cur_sess, s.weight));
    // a before b: a's cur_sess/weight is lower (cross-multiplied, weight at
    // least 1), or equal and a comes first from the cursor.
    let before = |a: usize, b: usize| {
        let ((ca, wa), (cb, wb)) = (load(a), load(b));
        let la = u64::from(ca) * u64::from(wb.max(1));
        let lb = u64::from(cb) * u64::from(wa.max(1));
        la.cmp(&lb).then(rank(a).cmp(&rank(b))).is_lt()
    };
    let best = farm
        .free(servers)
        .fold(None, |best: Option<usize>, i| match best {
            Some(b) if !before(i, b) => Some(b),
            _ => Some(i),
        });
    if let Some(b) = best {
        px.lb_cursor = b + 1;
    }
    best
}

/// The free server with the lowest id (the first in index order on a tie).
fn first(servers: &[Server], farm: Farm) -> Option<usize> {
    farm.free(servers)
        .fold(None, |best: Option<(usize, u32)>, i| {
            let id = servers.get(i).map_or(u32::MAX, |s| s.id);
            match best {
                Some((_, bid)) if bid <= id => best,
                _ => Some((i, id)),
            }
        })
        .map(|(i, _)| i)
}

fn source_hash(servers: &[Server], farm: Farm, src: Option<IpAddr>) -> Option<usize> {
    let h = match src {
        Some(IpAddr::V4(a)) => hash32(u32::from_be_bytes(a.octets())),
        Some(IpAddr::V6(a)) => a.octets().chunks_exact(4).fold(0u32, |h, c| {
            let w = c.try_into().map_or(0, u32::from_be_bytes);
            hash32(h ^ w)
        }),
        None => 0,
    };
    let weight = |i: usize| servers.get(i).map_or(0, |s| u64::from(s.weight));
    // Map-based: the hash selects a slot in the weighted list of candidates,
    // so the same source lands on the same server while the farm is stable.
    let total: u64 = farm.candidates(servers).map(weight).sum();
    if total == 0 {
        return None;
    }
    let mut slot = u64::from(h) % total;
    for i in farm.candidates(servers) {
        let w = weight(i);
        if slot < w {
            return farm.is_free(servers, i).then_some(i);
        }
        slot -= w;
    }
    None
}

/// A 32-bit integer mix (full avalanche) for source hashing.
fn hash32(mut a: u32) -> u32 {
    a = (a ^ 61) ^ (a >> 16);
    a = a.wrapping_add(a << 3);
    a ^= a >> 4;
    a = a.wrapping_mul(0x27d4_eb2d);
    a ^ (a >> 15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::model::{Cap, DefaultServer, ProxyCfg, ServerCfg};

    fn backend(balance: Balance, weights: &[(u32, bool)]) -> Proxy {
        let servers = weights
            .iter()
            .enumerate()
            .map(|(i, &(weight, backup))| {
                let d = DefaultServer {
                    weight,
                    backup,
                    ..DefaultServer::default()
                };
                let addr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
                ServerCfg::new(format!("s{i}"), addr, Some(1000 + i as u16), &d, None, 1)
            })
            .collect();
        let cfg = ProxyCfg {
            name: "be".into(),
            cap: Cap {
                fe: false,
                be: true,
            },
            balance,
            servers,
            ..Default::default()
        };
        Proxy::from_cfg(&cfg, 1, &[], 0)
    }

    fn run(px: &mut Proxy, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| match pick(px, None, None) {
                Pick::Server(i) => i,
                p => panic!("unexpected {p:?}"),
            })
            .collect()
    }

    #[test]
    fn roundrobin_respects_weights_interleaved() {
        let mut px = backend(Balance::RoundRobin, &[(3, false), (1, false)]);
        let v = run(&mut px, 8);
        assert_eq!(v.iter().filter(|&&i| i == 0).count(), 6);
        assert_eq!(v.iter().filter(|&&i| i == 1).count(), 2);
        assert_ne!(&v[..4], &[0, 0, 0, 0]);
    }

    #[test]
    fn backup_only_when_no_active() {
        let mut px = backend(Balance::RoundRobin, &[(1, false), (1, true), (1, true)]);
        assert!(run(&mut px, 4).iter().all(|&i| i == 0));
        px.servers[0].state = super::super::SrvState::Down;
        assert!(run(&mut px, 4).iter().all(|&i| i == 1));
    }

    #[test]
    fn full_servers_queue_and_first_fills_in_order() {
        let mut px = backend(Balance::First, &[(1, false), (1, false)]);
        px.servers[0].maxconn = 1;
        px.servers[1].maxconn = 1;
        assert_eq!(pick(&mut px, None, None), Pick::Server(0));
        px.servers[0].cur_sess = 1;
        assert_eq!(pick(&mut px, None, None), Pick::Server(1));
        px.servers[1].cur_sess = 1;
        assert_eq!(pick(&mut px, None, None), Pick::Queue);
        px.servers[0].state = super::super::SrvState::Maint;
        px.servers[1].state = super::super::SrvState::Maint;
        assert_eq!(pick(&mut px, None, None), Pick::NoServer);
    }

    #[test]
    fn leastconn_prefers_idle() {
        let mut px = backend(Balance::LeastConn, &[(1, false), (1, false), (1, false)]);
        px.servers[0].cur_sess = 5;
        px.servers[1].cur_sess = 1;
        px.servers[2].cur_sess = 3;
        assert_eq!(pick(&mut px, None, None), Pick::Server(1));
    }

    #[test]
    fn source_is_sticky_and_spreads() {
        let mut px = backend(Balance::Source, &[(1, false), (1, false), (1, false)]);
        let a: IpAddr = "10.0.0.1"
            .parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        let first = pick(&mut px, Some(a), None);
        for _ in 0..10 {
            assert_eq!(pick(&mut px, Some(a), None), first);
        }
        let mut seen = std::collections::HashSet::new();
        for i in 0..64u8 {
            if let Pick::Server(s) = pick(
                &mut px,
                Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, i))),
                None,
            ) {
                seen.insert(s);
            }
        }
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn redispatch_avoids_previous_server() {
        let mut px = backend(Balance::RoundRobin, &[(1, false), (1, false)]);
        for _ in 0..5 {
            assert_eq!(pick(&mut px, None, Some(0)), Pick::Server(1));
        }
    }

    /// The allocating implementation `pick` had before it walked the farm
    /// through predicates, kept verbatim as the reference for equivalence.
    mod reference {
        use super::super::{Pick, hash32};
        use crate::cfg::model::Balance;
        use crate::proxy::{Proxy, Server};
        use std::net::IpAddr;

        pub fn pick(px: &mut Proxy, src: Option<IpAddr>, avoid: Option<usize>) -> Pick {
            let any_active = px.servers.iter().any(|s| !s.backup && s.usable());
            let candidates: Vec<usize> = if any_active {
                (0..px.servers.len())
                    .filter(|&i| !px.servers[i].backup && px.servers[i].usable())
                    .collect()
            } else {
                (0..px.servers.len())
                    .filter(|&i| px.servers[i].backup && px.servers[i].usable())
                    .take(1)
                    .collect()
            };
            if candidates.is_empty() {
                return Pick::NoServer;
            }
            let mut free: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| !px.servers[i].full())
                .collect();
            if free.is_empty() {
                return Pick::Queue;
            }
            if let Some(a) = avoid
                && free.len() > 1
            {
                free.retain(|&i| i != a);
            }
            let chosen = match px.balance {
                Balance::RoundRobin | Balance::StaticRr => smooth_wrr(&mut px.servers, &free),
                Balance::LeastConn => leastconn(px, &free),
                Balance::First => free.iter().copied().min_by_key(|&i| px.servers[i].id),
                Balance::Source => source_hash(&px.servers, &candidates, &free, src),
            };
            match chosen {
                Some(i) => Pick::Server(i),
                None => Pick::Queue,
            }
        }

        fn smooth_wrr(servers: &mut [Server], free: &[usize]) -> Option<usize> {
            let total: i64 = free.iter().map(|&i| servers[i].weight as i64).sum();
            for &i in free {
                servers[i].rr_current += servers[i].weight as i64;
            }
            let best = free.iter().copied().max_by(|&a, &b| {
                servers[a]
                    .rr_current
                    .cmp(&servers[b].rr_current)
                    .then(b.cmp(&a))
            });
            if let Some(b) = best {
                servers[b].rr_current -= total;
            }
            best
        }

        fn leastconn(px: &mut Proxy, free: &[usize]) -> Option<usize> {
            let n = px.servers.len().max(1);
            let start = px.lb_cursor % n;
            let best = free.iter().copied().min_by(|&a, &b| {
                let (sa, sb) = (&px.servers[a], &px.servers[b]);
                let la = sa.cur_sess as u64 * sb.weight.max(1) as u64;
                let lb = sb.cur_sess as u64 * sa.weight.max(1) as u64;
                la.cmp(&lb)
                    .then(((a + n - start) % n).cmp(&((b + n - start) % n)))
            });
            if let Some(b) = best {
                px.lb_cursor = b + 1;
            }
            best
        }

        fn source_hash(
            servers: &[Server],
            candidates: &[usize],
            free: &[usize],
            src: Option<IpAddr>,
        ) -> Option<usize> {
            let h = match src {
                Some(IpAddr::V4(a)) => hash32(u32::from_be_bytes(a.octets())),
                Some(IpAddr::V6(a)) => {
                    let o = a.octets();
                    let mut h = 0u32;
                    for c in o.chunks(4) {
                        h = hash32(h ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                    }
                    h
                }
                None => 0,
            };
            let total: u64 = candidates.iter().map(|&i| servers[i].weight as u64).sum();
            if total == 0 {
                return None;
            }
            let mut slot = h as u64 % total;
            for &i in candidates {
                let w = servers[i].weight as u64;
                if slot < w {
                    return if free.contains(&i) { Some(i) } else { None };
                }
                slot -= w;
            }
            None
        }
    }

    /// xorshift64*: a small deterministic generator for the random farms.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
    }

    const BALANCES: [Balance; 5] = [
        Balance::RoundRobin,
        Balance::StaticRr,
        Balance::LeastConn,
        Balance::First,
        Balance::Source,
    ];

    const STATES: [super::super::SrvState; 4] = [
        super::super::SrvState::Up,
        super::super::SrvState::Drain,
        super::super::SrvState::Down,
        super::super::SrvState::Maint,
    ];

    /// Changes server `i` of `px` the way draw `d` says (the same draw gives
    /// the same change on both proxies).
    fn mutate(px: &mut Proxy, i: usize, d: u64) {
        let Some(s) = px.servers.get_mut(i) else {
            return;
        };
        match d % 6 {
            0 => s.state = STATES[(d / 6 % 4) as usize],
            1 => s.weight = [0, 1, 2, 3, 7, 256][(d / 6 % 6) as usize],
            2 => s.cur_sess = (d / 6 % 5) as u32,
            3 => s.maxconn = (d / 6 % 4) as u32,
            4 => s.backup = (d / 6).is_multiple_of(4),
            _ => s.id = (d / 6 % 5) as u32,
        }
    }

    #[test]
    fn pick_chooses_exactly_as_the_allocating_reference_on_random_farms() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut picks = 0;
        // Server, Queue, NoServer: each must come up for every algorithm.
        let mut seen = [[0usize; 3]; BALANCES.len()];
        for farm in 0..3000 {
            let balance = BALANCES[farm % BALANCES.len()];
            let n = rng.below(9) as usize;
            let weights: Vec<(u32, bool)> = (0..n)
                .map(|_| {
                    let w = [0, 1, 1, 2, 3, 5, 10, 256][rng.below(8) as usize];
                    (w, rng.chance(25))
                })
                .collect();
            let mut a = backend(balance, &weights);
            let mut b = backend(balance, &weights);
            for i in 0..n {
                for _ in 0..rng.below(4) {
                    let d = rng.next();
                    mutate(&mut a, i, d);
                    mutate(&mut b, i, d);
                }
            }
            for step in 0..40 {
                let avoid = rng.chance(30).then(|| rng.below(n as u64 + 1) as usize);
                let src = match rng.below(3) {
                    0 => None,
                    1 => Some(IpAddr::V4(std::net::Ipv4Addr::from(rng.next() as u32))),
                    _ => Some(IpAddr::V6(std::net::Ipv6Addr::from(
                        (u128::from(rng.next()) << 64) | u128::from(rng.next()),
                    ))),
                };
                let got = pick(&mut a, src, avoid);
                let want = reference::pick(&mut b, src, avoid);
                assert_eq!(
                    got, want,
                    "farm {farm} ({balance:?}) step {step}: avoid {avoid:?} src {src:?} servers {:?}",
                    b.servers
                );
                let state = |p: &Proxy| {
                    let rr: Vec<i64> = p.servers.iter().map(|s| s.rr_current).collect();
                    (rr, p.lb_cursor)
                };
                assert_eq!(state(&a), state(&b), "farm {farm} step {step}: LB state");
                picks += 1;
                let outcome = match got {
                    Pick::Server(_) => 0,
                    Pick::Queue => 1,
                    Pick::NoServer => 2,
                };
                seen[farm % BALANCES.len()][outcome] += 1;
                // The chosen server takes the connection, or one ends, or
                // the farm changes: the same way on both sides.
                if let Pick::Server(i) = got
                    && rng.chance(50)
                {
                    a.servers[i].cur_sess += 1;
                    b.servers[i].cur_sess += 1;
                }
                if n > 0 && rng.chance(30) {
                    let (i, d) = (rng.below(n as u64) as usize, rng.next());
                    mutate(&mut a, i, d);
                    mutate(&mut b, i, d);
                }
            }
        }
        assert_eq!(picks, 3000 * 40);
        for (balance, seen) in BALANCES.iter().zip(seen) {
            assert!(
                seen.iter().all(|&n| n > 100),
                "{balance:?}: outcomes Server/Queue/NoServer {seen:?}"
            );
        }
    }

    /// Counts the allocations made by the current thread, so that one test
    /// can check a call allocates nothing while other tests run in parallel
    /// on other threads. Test builds only.
    mod counting_alloc {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            static ALLOCS: Cell<u64> = const { Cell::new(0) };
        }

        fn count() {
            // try_with: no panic while the thread's locals are torn down.
            let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        }

        /// The system allocator, counting alloc/alloc_zeroed/realloc calls.
        pub struct Counting;

        // SAFETY: every method forwards to `System` with the caller's
        // arguments unchanged; the counter is a const-initialised thread
        // local of a type without destructor, which never allocates.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                count();
                // SAFETY: forwarded as received (GlobalAlloc contract).
                unsafe { System.alloc(layout) }
            }
            unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
                count();
                // SAFETY: forwarded as received (GlobalAlloc contract).
                unsafe { System.alloc_zeroed(layout) }
            }
            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                count();
                // SAFETY: forwarded as received (GlobalAlloc contract).
                unsafe { System.realloc(ptr, layout, new_size) }
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                // SAFETY: forwarded as received (GlobalAlloc contract).
                unsafe { System.dealloc(ptr, layout) }
            }
        }

        #[global_allocator]
        static GLOBAL: Counting = Counting;

        /// Allocations made so far by this thread.
        pub fn allocs() -> u64 {
            ALLOCS.with(|c| c.get())
        }
    }

    #[test]
    fn pick_allocates_nothing_for_any_algorithm() {
        let v4 = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7)));
        let v6 = Some(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST));
        for balance in BALANCES {
            let weights = [(3, false), (1, false), (2, false), (1, true), (1, true)];
            let mut px = backend(balance, &weights);
            px.servers[1].maxconn = 1;
            px.servers[1].cur_sess = 1;
            // The counter sees the reference's two Vecs: it does count.
            let before = counting_alloc::allocs();
            let _ = reference::pick(&mut px, None, None);
            assert!(
                counting_alloc::allocs() > before,
                "the counter counts nothing"
            );
            let before = counting_alloc::allocs();
            for k in 0..300usize {
                let src = [None, v4, v6][k % 3];
                let avoid = [None, Some(0), Some(2)][k % 3];
                if k == 150 {
                    // Active servers gone: the backup path.
                    for s in px.servers.iter_mut().filter(|s| !s.backup) {
                        s.state = super::super::SrvState::Down;
                    }
                }
                let p = pick(&mut px, src, avoid);
                assert!(
                    matches!(p, Pick::Server(_) | Pick::Queue),
                    "{balance:?}: {p:?}"
                );
            }
            for s in px.servers.iter_mut() {
                s.state = super::super::SrvState::Maint;
            }
            assert_eq!(pick(&mut px, v4, None), Pick::NoServer);
            assert_eq!(
                counting_alloc::allocs() - before,
                0,
                "{balance:?}: lb::pick allocated"
            );
        }
    }
}
