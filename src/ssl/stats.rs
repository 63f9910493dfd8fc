//! TLS counters of `show info` (`CurrSslConns`, `CumSslConns`, `SslRate`,
//! the key rates and the session reuse share), kept by the data layer as
//! sessions are created, finish their handshake and are freed.
//!
//! Rates are per second as HAProxy's frequency counters read them: the
//! current second's events plus the previous second's, weighted by what
//! is left of the current second.

use std::cell::RefCell;

/// Events per second.
#[derive(Debug, Default, Clone, Copy)]
pub struct Freq {
    sec: u64,
    curr: u32,
    prev: u32,
}

impl Freq {
    fn roll(&mut self, now_ms: u64) {
        let sec = now_ms / 1000;
        if sec != self.sec {
            self.prev = if sec == self.sec + 1 { self.curr } else { 0 };
            self.curr = 0;
            self.sec = sec;
        }
    }

    /// Counts one event at `now_ms`.
    pub fn add(&mut self, now_ms: u64) {
        self.roll(now_ms);
        self.curr += 1;
    }

    /// The rate at `now_ms`.
    pub fn read(&self, now_ms: u64) -> u32 {
        let sec = now_ms / 1000;
        let (curr, prev) = match sec.checked_sub(self.sec) {
            Some(0) => (self.curr, self.prev),
            Some(1) => (0, self.curr),
            _ => (0, 0),
        };
        let left = 1000 - (now_ms % 1000) as u32;
        curr + (u64::from(prev) * u64::from(left) / 1000) as u32
    }
}

/// The process's TLS counters.
#[derive(Debug, Default, Clone)]
pub struct SslStats {
    pub cur: u64,
    pub cum: u64,
    pub rate: Freq,
    pub max_rate: u32,
    pub fe_keys: Freq,
    pub fe_max_keys: u32,
    pub be_keys: Freq,
    pub be_max_keys: u32,
    /// Frontend handshakes and the resumed ones among them (reuse share).
    pub fe_hs: Freq,
    pub fe_reused: Freq,
}

thread_local! {
    static STATS: RefCell<SslStats> = RefCell::new(SslStats::default());
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A TLS session was created on a connection.
pub fn on_new() {
    let t = now_ms();
    STATS.with(|s| {
        let mut s = s.borrow_mut();
        s.cur += 1;
        s.cum += 1;
        s.rate.add(t);
        s.max_rate = s.max_rate.max(s.rate.read(t));
    });
}

/// A TLS session was freed.
pub fn on_free() {
    STATS.with(|s| {
        let mut s = s.borrow_mut();
        s.cur = s.cur.saturating_sub(1);
    });
}

/// A handshake completed: a full one costs a key exchange.
pub fn on_handshake(front: bool, resumed: bool) {
    let t = now_ms();
    STATS.with(|s| {
        let mut s = s.borrow_mut();
        if front {
            s.fe_hs.add(t);
            if resumed {
                s.fe_reused.add(t);
            } else {
                s.fe_keys.add(t);
                s.fe_max_keys = s.fe_max_keys.max(s.fe_keys.read(t));
            }
        } else if !resumed {
            s.be_keys.add(t);
            s.be_max_keys = s.be_max_keys.max(s.be_keys.read(t));
        }
    });
}

/// The `show info` lines' values, by name.
pub fn info_value(name: &str) -> Option<u64> {
    let t = now_ms();
    STATS.with(|s| {
        let s = s.borrow();
        Some(match name {
            "CurrSslConns" => s.cur,
            "CumSslConns" => s.cum,
            "SslRate" => u64::from(s.rate.read(t)),
            "MaxSslRate" => u64::from(s.max_rate),
            "SslFrontendKeyRate" => u64::from(s.fe_keys.read(t)),
            "SslFrontendMaxKeyRate" => u64::from(s.fe_max_keys),
            "SslFrontendSessionReuse_pct" => {
                let hs = s.fe_hs.read(t);
                if hs == 0 {
                    0
                } else {
                    u64::from(s.fe_reused.read(t)) * 100 / u64::from(hs)
                }
            }
            "SslBackendKeyRate" => u64::from(s.be_keys.read(t)),
            "SslBackendMaxKeyRate" => u64::from(s.be_max_keys),
            _ => return None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_carry_the_previous_second_weighted() {
        let mut f = Freq::default();
        for _ in 0..10 {
            f.add(5_000);
        }
        assert_eq!(f.read(5_999), 10);
        // Half a second into the next one: half of the previous.
        assert_eq!(f.read(6_500), 5);
        f.add(6_500);
        assert_eq!(f.read(6_500), 6);
        assert_eq!(f.read(8_000), 0);
    }
}
