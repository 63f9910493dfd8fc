//! The master's process list: itself, its workers (current and old) and
//! its programs. It survives the master's re-execution in the environment
//! (`HAPROXY_PROCESSES`, one `|`-prefixed entry per process, newest first),
//! with the fds of the workers' socketpairs kept open across `execve`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::os::fd::RawFd;

/// What a process of the list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcKind {
    Master,
    Worker,
    /// A `program` section's process, by the section's name.
    Program(String),
}

/// One process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub kind: ProcKind,
    pub pid: i32,
    /// The master's end of a worker's socketpair (-1 otherwise).
    pub ipc: RawFd,
    /// Reloads this process has lived through.
    pub reloads: u32,
    /// Reloads that failed (the master's entry counts them).
    pub failed_reloads: u32,
    /// Start time, seconds since the epoch.
    pub started: i64,
    /// The version it runs (None for the master, as HAProxy shows it).
    pub version: Option<String>,
}

impl Proc {
    pub fn new(kind: ProcKind, pid: i32, ipc: RawFd, started: i64) -> Self {
        let version = match kind {
            ProcKind::Master => None,
            _ => Some(crate::cfg::cond::VERSION.to_string()),
        };
        Proc {
            kind,
            pid,
            ipc,
            reloads: 0,
            failed_reloads: 0,
            started,
            version,
        }
    }

    fn type_char(&self) -> char {
        match self.kind {
            ProcKind::Master => 'm',
            ProcKind::Worker => 'w',
            ProcKind::Program(_) => 'e',
        }
    }

    /// The program's name, empty for the others.
    pub fn id(&self) -> &str {
        match &self.kind {
            ProcKind::Program(n) => n,
            _ => "",
        }
    }
}

/// Renders the list as the environment carries it.
pub fn serialize(list: &[Proc]) -> String {
    let mut out = String::new();
    for p in list {
        out.push_str(&format!(
            "|type={};fd={};pid={};reloads={};failedreloads={};timestamp={};id={};version={}",
            p.type_char(),
            p.ipc,
            p.pid,
            p.reloads,
            p.failed_reloads,
            p.started,
            p.id(),
            p.version.as_deref().unwrap_or("(null)")
        ));
    }
    out
}

/// Reads a list [`serialize`] wrote; entries that do not parse are
/// skipped (they would name no process we could supervise).
pub fn parse(s: &str) -> Vec<Proc> {
    s.split('|').filter_map(parse_one).collect()
}

fn parse_one(e: &str) -> Option<Proc> {
    let mut kind = None;
    let mut p = Proc::new(ProcKind::Worker, 0, -1, 0);
    let mut id = String::new();
    for field in e.split(';') {
        let (k, v) = field.split_once('=')?;
        match k {
            "type" => kind = Some(v.to_string()),
            "fd" => p.ipc = v.parse().ok()?,
            "pid" => p.pid = v.parse().ok()?,
            "reloads" => p.reloads = v.parse().ok()?,
            "failedreloads" => p.failed_reloads = v.parse().ok()?,
            "timestamp" => p.started = v.parse().ok()?,
            "id" => id = v.to_string(),
            "version" => p.version = (v != "(null)").then(|| v.to_string()),
            _ => {}
        }
    }
    p.kind = match kind.as_deref()? {
        "m" => ProcKind::Master,
        "w" => ProcKind::Worker,
        "e" => ProcKind::Program(id),
        _ => return None,
    };
    (p.pid > 0).then_some(p)
}

/// Uptime as HAProxy prints it: `0d00h00m05s`.
pub fn uptime(secs: i64) -> String {
    let s = secs.max(0);
    format!(
        "{}d{:02}h{:02}m{:02}s",
        s / 86400,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_list_survives_its_round_trip_through_the_environment() {
        let mut m = Proc::new(ProcKind::Master, 100, -1, 1_700_000_000);
        m.reloads = 3;
        m.failed_reloads = 1;
        let mut w = Proc::new(ProcKind::Worker, 101, 4, 1_700_000_010);
        w.reloads = 1;
        let e = Proc::new(ProcKind::Program("p1".into()), 102, -1, 1_700_000_020);
        let list = vec![w, e, m];
        let s = serialize(&list);
        assert!(s.starts_with("|type=w;fd=4;pid=101;reloads=1;failedreloads=0;"));
        assert!(s.ends_with(";id=;version=(null)"));
        assert_eq!(parse(&s), list);
    }

    #[test]
    fn bad_entries_are_skipped() {
        let s = "|type=w;fd=4;pid=x|type=z;pid=5|garbage|type=w;fd=5;pid=7;reloads=0;failedreloads=0;timestamp=1;id=;version=v";
        let l = parse(s);
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].pid, l[0].ipc, l[0].version.as_deref()),
            (7, 5, Some("v"))
        );
    }

    #[test]
    fn uptime_is_days_hours_minutes_seconds() {
        assert_eq!(uptime(5), "0d00h00m05s");
        assert_eq!(uptime(90061), "1d01h01m01s");
        assert_eq!(uptime(-3), "0d00h00m00s");
    }
}
