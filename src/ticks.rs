//! Time in wrapping milliseconds ("ticks"), as HAProxy counts it.
//!
//! A tick is a `u32` number of milliseconds that wraps every ~49 days. The
//! value 0 means "never" (`ETERNITY`): a computed tick that lands on 0 is moved
//! to 1 so it stays a real date. Comparisons are made on the signed difference,
//! so they stay right across the wrap as long as the two dates are less than
//! 24 days apart. Only the event loop reads the clock (`Clock::update`).

use std::time::Instant;

/// A date in wrapping milliseconds; `ETERNITY` (0) is "not set".
pub type Tick = u32;

/// The tick that never expires.
pub const ETERNITY: Tick = 0;

/// Returns `now + timeout`, or `ETERNITY` when `timeout` is 0 (unset).
#[inline]
pub fn tick_add_ifset(now: Tick, timeout_ms: u32) -> Tick {
    if timeout_ms == 0 {
        ETERNITY
    } else {
        tick_add(now, timeout_ms)
    }
}

/// Returns `now + ms`, never `ETERNITY`.
#[inline]
pub fn tick_add(now: Tick, ms: u32) -> Tick {
    let t = now.wrapping_add(ms);
    if t == ETERNITY { 1 } else { t }
}

/// True when the tick is a real date.
#[inline]
pub fn tick_isset(t: Tick) -> bool {
    t != ETERNITY
}

/// True when `t` is set and at or before `now`.
#[inline]
pub fn tick_is_expired(t: Tick, now: Tick) -> bool {
    tick_isset(t) && (now.wrapping_sub(t) as i32) >= 0
}

/// True when `a` comes strictly before `b` (both set).
#[inline]
pub fn tick_is_lt(a: Tick, b: Tick) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// The earliest of two ticks, ignoring unset ones.
#[inline]
pub fn tick_first(a: Tick, b: Tick) -> Tick {
    if !tick_isset(a) {
        b
    } else if !tick_isset(b) || tick_is_lt(a, b) {
        a
    } else {
        b
    }
}

/// Milliseconds from `now` until `t` (0 if expired), `None` if unset.
#[inline]
pub fn tick_remain(now: Tick, t: Tick) -> Option<u32> {
    if !tick_isset(t) {
        return None;
    }
    let d = t.wrapping_sub(now) as i32;
    Some(if d < 0 { 0 } else { d as u32 })
}

/// The loop's clock: monotonic milliseconds since start, read once per turn.
pub struct Clock {
    start: Instant,
    /// Monotonic milliseconds since start (does not wrap).
    pub now_abs: u64,
    /// `now_abs` as a tick (offset so the first tick is not 0).
    pub now: Tick,
}

impl Clock {
    /// A clock reading "now".
    pub fn new() -> Self {
        let mut c = Clock {
            start: Instant::now(),
            now_abs: 0,
            now: 1,
        };
        c.update();
        c
    }

    /// Reads the monotonic clock; called once per loop turn.
    pub fn update(&mut self) {
        self.now_abs = self.start.elapsed().as_millis() as u64;
        self.now = Self::abs_to_tick(self.now_abs);
    }

    /// Sets the clock to `now_abs` milliseconds since start: for tests and
    /// simulations that drive handlers through time without waiting.
    pub fn jump_to(&mut self, now_abs: u64) {
        self.now_abs = now_abs;
        self.now = Self::abs_to_tick(now_abs);
    }

    fn abs_to_tick(abs: u64) -> Tick {
        // Start a little before the wrap so that wrap handling is exercised early
        // in every long-running process, not only after 49 days.
        let t = (abs as u32).wrapping_add(0xffff_0000);
        if t == ETERNITY { 1 } else { t }
    }

    /// Converts a tick (within +-24 days of now) to monotonic milliseconds.
    pub fn tick_to_abs(&self, t: Tick) -> u64 {
        let d = t.wrapping_sub(self.now) as i32 as i64;
        (self.now_abs as i64 + d).max(0) as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_never_yields_eternity() {
        assert_eq!(tick_add(u32::MAX, 1), 1);
        assert_eq!(tick_add_ifset(5, 0), ETERNITY);
        assert_eq!(tick_add_ifset(5, 10), 15);
    }

    #[test]
    fn expiry_across_wrap() {
        let now = u32::MAX - 5;
        let t = tick_add(now, 10); // wraps to 4 (or 5 past eternity)
        assert!(!tick_is_expired(t, now));
        assert!(tick_is_expired(t, t));
        assert!(tick_is_expired(t, t.wrapping_add(3)));
        assert!(!tick_is_expired(ETERNITY, now));
    }

    #[test]
    fn first_and_remain() {
        assert_eq!(tick_first(ETERNITY, 7), 7);
        assert_eq!(tick_first(7, ETERNITY), 7);
        let now = u32::MAX - 2;
        let a = tick_add(now, 1);
        let b = tick_add(now, 100);
        assert_eq!(tick_first(b, a), a);
        assert_eq!(tick_remain(now, b), Some(100));
        assert_eq!(tick_remain(b, a), Some(0));
        assert_eq!(tick_remain(now, ETERNITY), None);
    }

    #[test]
    fn clock_round_trip() {
        let c = Clock::new();
        let t = tick_add(c.now, 1234);
        assert_eq!(c.tick_to_abs(t), c.now_abs + 1234);
    }
}
