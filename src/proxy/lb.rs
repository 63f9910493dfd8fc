//! Load-balancing algorithms (configuration.txt 4.2, "balance").
//!
//! Each picks a usable, non-full server among the active ones, or among the
//! backup ones when no active server is usable (the first backup only, unless
//! `option allbackups`, which haproxy-rs does not implement). `None` with
//! usable-but-full servers means "queue in the backend"; `None` with nothing
//! usable means "no server" (503 / `SC`).

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

/// Picks a server for a new connection. `avoid` is a server to skip when
/// another one exists (redispatch); `src` feeds `balance source`.
pub fn pick(px: &mut Proxy, src: Option<IpAddr>, avoid: Option<usize>) -> Pick {
    let any_active = px.servers.iter().any(|s| !s.backup && s.usable());
    let candidates: Vec<usize> = if any_active {
        (0..px.servers.len())
            .filter(|&i| !px.servers[i].backup && px.servers[i].usable())
            .collect()
    } else {
        // First usable backup only (HAProxy's default without allbackups).
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

/// Smooth weighted round-robin: every candidate gains its weight, the largest
/// current value wins and pays the total. Gives each server its share in an
/// evenly interleaved order (e.g. weights 3/1: a a b a ...).
fn smooth_wrr(servers: &mut [Server], free: &[usize]) -> Option<usize> {
    let total: i64 = free.iter().map(|&i| servers[i].weight as i64).sum();
    for &i in free {
        servers[i].rr_current += servers[i].weight as i64;
    }
    // Largest current value wins; on a tie the lowest index.
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
    // Lowest load (cur_sess / weight); ties rotate from the cursor so equal
    // servers share the traffic in turn.
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
    // Map-based: the hash selects a slot in the weighted list of candidates,
    // so the same source lands on the same server while the farm is stable.
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
}
