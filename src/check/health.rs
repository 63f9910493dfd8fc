//! The rise/fall logic of health checks, free of I/O: HAProxy's
//! `check->health` counter ([`Health`]), the status a check ends with
//! ([`CheckStatus`]) and what a result does to the server ([`Transition`]).
//!
//! ```text
//!   health:  0 ........ rise-1 | rise ........ rise+fall-1
//!            DOWN (going up)   | UP (going down)
//!   pass: health+1; reaching rise jumps to rise+fall-1 (fully UP)
//!   fail: health-1; dropping below rise jumps to 0      (fully DOWN)
//! ```
//!
//! Servers start UP with `health = rise`: "up, but will fall down at the
//! first failure" (HAProxy 2.6 marks a dead server DOWN at its first check).

/// Outcome of the last check (HAProxy's `HCHK_STATUS_*` subset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// No check has completed yet.
    Ini,
    /// Layer-4 connect succeeded.
    L4Ok,
    /// Layer-4 connect timed out.
    L4Tout,
    /// Layer-4 connect failed (refused, unreachable...).
    L4Con,
    /// The TLS handshake succeeded (`check-ssl`, or a server with `ssl`).
    L6Ok,
    /// The TLS handshake timed out.
    L6Tout,
    /// The TLS handshake failed.
    L6Rsp,
}

impl CheckStatus {
    /// The short name shown in the `check_status` stats column.
    pub fn code(self) -> &'static str {
        match self {
            CheckStatus::Ini => "INI",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Tout => "L4TOUT",
            CheckStatus::L4Con => "L4CON",
            CheckStatus::L6Ok => "L6OK",
            CheckStatus::L6Tout => "L6TOUT",
            CheckStatus::L6Rsp => "L6RSP",
        }
    }

    /// The description used in logs ("reason: ...") and in `check_desc`.
    pub fn desc(self) -> &'static str {
        match self {
            CheckStatus::Ini => "Initializing",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Tout => "Layer4 timeout",
            CheckStatus::L4Con => "Layer4 connection problem",
            CheckStatus::L6Ok => "Layer6 check passed",
            CheckStatus::L6Tout => "Layer6 timeout",
            CheckStatus::L6Rsp => "Layer6 invalid response",
        }
    }
}

/// What one check result does to the server's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The server keeps its state.
    None,
    /// The server must be marked UP.
    Up,
    /// The server must be marked DOWN.
    Down,
}

/// The rise/fall counter (HAProxy's `check->health`), free of I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
}

impl Health {
    /// A server starting UP, one failure away from DOWN (HAProxy 2.6).
    pub fn new(rise: u32, fall: u32) -> Self {
        let rise = rise.max(1);
        Health {
            health: rise,
            rise,
            fall: fall.max(1),
        }
    }

    /// The value of a fully UP server.
    #[inline]
    pub fn top(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// Records one result for a server currently UP (`server_up`) or not.
    /// Returns whether the result counted as a failed check (HAProxy's
    /// `chkfail` counts failures seen while health > 0) and the transition
    /// to apply.
    pub fn record(&mut self, ok: bool, server_up: bool) -> (bool, Transition) {
        let mut counted_fail = false;
        if ok {
            if self.health < self.top() {
                self.health += 1;
                if self.health >= self.rise {
                    self.health = self.top();
                }
            }
        } else if self.health > 0 {
            counted_fail = true;
            self.health -= 1;
            if self.health < self.rise {
                self.health = 0;
            }
        }
        let t = if ok && self.health >= self.rise && !server_up {
            Transition::Up
        } else if !ok && self.health == 0 && server_up {
            Transition::Down
        } else {
            Transition::None
        };
        (counted_fail, t)
    }

    /// The `status` stats column: "UP", "UP 1/3" (going down), "DOWN",
    /// "DOWN 1/2" (going up).
    pub fn status(&self, server_up: bool) -> String {
        if server_up {
            if self.health < self.top() {
                format!(
                    "UP {}/{}",
                    (self.health + 1).saturating_sub(self.rise),
                    self.fall
                )
            } else {
                "UP".to_string()
            }
        } else if self.health == 0 {
            "DOWN".to_string()
        } else {
            format!("DOWN {}/{}", self.health, self.rise)
        }
    }

    /// Delay before the next check (HAProxy's `srv_getinter`): `inter` when
    /// fully UP, `downinter` when fully DOWN, `fastinter` in transitions;
    /// unset (0) ones fall back to `inter`.
    pub fn interval(&self, server_up: bool, inter: u32, fastinter: u32, downinter: u32) -> u32 {
        let pick = |v: u32| if v != 0 { v } else { inter };
        if self.health == self.top() {
            inter
        } else if !server_up && self.health == 0 {
            pick(downinter)
        } else {
            pick(fastinter)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds results to a counter, applying transitions to a server state.
    fn run(h: &mut Health, up: &mut bool, results: &[bool]) -> Vec<Transition> {
        results
            .iter()
            .map(|&ok| {
                let (_, t) = h.record(ok, *up);
                match t {
                    Transition::Up => *up = true,
                    Transition::Down => *up = false,
                    Transition::None => {}
                }
                t
            })
            .collect()
    }

    #[test]
    fn starts_up_and_falls_at_first_failure() {
        let mut h = Health::new(2, 3);
        let mut up = true;
        assert_eq!(h.status(up), "UP 1/3");
        assert_eq!(run(&mut h, &mut up, &[false]), [Transition::Down]);
        assert_eq!(h.health, 0);
        assert_eq!(h.status(up), "DOWN");
    }

    #[test]
    fn first_success_makes_it_fully_up() {
        let mut h = Health::new(2, 3);
        let mut up = true;
        assert_eq!(run(&mut h, &mut up, &[true]), [Transition::None]);
        assert_eq!(h.health, 4);
        assert_eq!(h.status(up), "UP");
    }

    #[test]
    fn rise_successes_to_come_back() {
        let mut h = Health::new(2, 3);
        let mut up = true;
        run(&mut h, &mut up, &[false]);
        assert_eq!(run(&mut h, &mut up, &[true]), [Transition::None]);
        assert_eq!(h.status(up), "DOWN 1/2");
        // A failure while going up drops back to fully DOWN.
        assert_eq!(run(&mut h, &mut up, &[false]), [Transition::None]);
        assert_eq!(h.status(up), "DOWN");
        assert_eq!(
            run(&mut h, &mut up, &[true, true]),
            [Transition::None, Transition::Up]
        );
        assert!(up);
        assert_eq!(h.status(up), "UP");
    }

    #[test]
    fn fall_failures_to_go_down_once_fully_up() {
        let mut h = Health::new(2, 3);
        let mut up = true;
        run(&mut h, &mut up, &[true]);
        assert_eq!(
            run(&mut h, &mut up, &[false, false]),
            [Transition::None, Transition::None]
        );
        assert_eq!(h.status(up), "UP 1/3");
        // A success while going down restores fully UP.
        run(&mut h, &mut up, &[true]);
        assert_eq!(h.status(up), "UP");
        assert_eq!(
            run(&mut h, &mut up, &[false, false, false]),
            [Transition::None, Transition::None, Transition::Down]
        );
        assert!(!up);
    }

    #[test]
    fn failures_count_only_above_zero() {
        let mut h = Health::new(2, 3);
        assert_eq!(h.record(false, true), (true, Transition::Down));
        assert_eq!(h.record(false, false), (false, Transition::None));
    }

    #[test]
    fn rise_one_fall_one() {
        let mut h = Health::new(1, 1);
        let mut up = true;
        assert_eq!(h.status(up), "UP");
        assert_eq!(
            run(&mut h, &mut up, &[false, true, false]),
            [Transition::Down, Transition::Up, Transition::Down]
        );
    }

    #[test]
    fn intervals_follow_state() {
        let mut h = Health::new(2, 3);
        // Yet unchecked: transitional.
        assert_eq!(h.interval(true, 2000, 500, 10_000), 500);
        assert_eq!(h.interval(true, 2000, 0, 10_000), 2000);
        h.record(true, true);
        assert_eq!(h.interval(true, 2000, 500, 10_000), 2000);
        let mut d = Health::new(2, 3);
        d.record(false, true);
        assert_eq!(d.interval(false, 2000, 500, 10_000), 10_000);
        assert_eq!(d.interval(false, 2000, 500, 0), 2000);
        d.record(true, false);
        assert_eq!(d.interval(false, 2000, 500, 10_000), 500);
    }

    #[test]
    fn status_names() {
        assert_eq!(CheckStatus::L4Con.code(), "L4CON");
        assert_eq!(CheckStatus::L4Tout.desc(), "Layer4 timeout");
    }
}
