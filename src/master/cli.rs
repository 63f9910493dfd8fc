//! The master CLI (`-S`, management.txt 9.4): an applet of the master's
//! engine. It answers its own commands (`show proc`, `reload`, ...) and
//! forwards the others to a worker: `@<relative pid>`, `@!<pid>` or
//! `@master` before a command picks its process for that line; alone on a
//! line, the prefix picks it for the lines that follow.
//!
//! ```text
//!   wait for a line --local command--> reply --------------------+
//!        ^         \--for a worker--> relay: a fresh connection   |
//!        |                            to the worker (fd sent over |
//!        |                            its socketpair), the line,  |
//!        |                            its reply copied until EOF -+
//!        +---------------------------------------------------------+
//! ```
//!
//! Unlike the stats socket, a session stays open after a reply until the
//! client closes or says `quit`. The session's level travels with every
//! forwarded line (`user;` or `operator;` first) so that a worker never
//! grants more than the master did.

use std::os::fd::RawFd;

use crate::applet::{self, AppletId, AppletState};
use crate::cfg::model::CliLevel;
use crate::cli::{Input, next_line};
use crate::engine::Engine;
use crate::fd::FdOwner;

const HELP: &str = "The following commands are valid at this level:
  @!<pid>                                 : send a command to the <pid> process
  @<relative pid>                         : send a command to the <relative pid> process
  @master                                 : send a command to the master process
  operator                                : lower the level of the current CLI session to operator
  reload                                  : reload haproxy
  show cli level                          : display the level of the current CLI session
  show cli sockets                        : dump list of cli sockets
  show proc                               : show processes status
  show version                            : show version of the current process
  user                                    : lower the level of the current CLI session to user
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect
";

const BETTER_MATCH: &str = "Unknown command, but maybe one of the following ones is a better match:
  @!<pid>                                 : send a command to the <pid> process
  @master                                 : send a command to the master process
  operator                                : lower the level of the current CLI session to operator
  reload                                  : reload haproxy
  user                                    : lower the level of the current CLI session to user
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect
";

/// Where a line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    Master,
    /// A worker, by pid.
    Worker(i32),
}

/// A forwarded line in progress: the connection to the worker.
#[derive(Debug)]
struct Relay {
    fd: RawFd,
}

/// The master CLI applet's state.
#[derive(Debug)]
pub struct MasterCliApplet {
    level: CliLevel,
    interactive: bool,
    out: Vec<u8>,
    out_pos: usize,
    closing: bool,
    /// Set by a prefix alone on its line.
    dest: Dest,
    relay: Option<Relay>,
    /// The commands of a line that follow one forwarded by `@<n> <cmd>`:
    /// they run when its reply is in.
    pending: Option<String>,
    /// `experimental-mode`, `expert-mode`, `mcli-debug-mode`: shown in the
    /// prompt (`x`, `e`, `d`); the first two go to the workers with each line.
    experimental: bool,
    expert: bool,
    debug: bool,
}

impl MasterCliApplet {
    pub fn new(level: CliLevel) -> Self {
        MasterCliApplet {
            level,
            interactive: false,
            out: Vec::new(),
            out_pos: 0,
            closing: false,
            dest: Dest::Master,
            relay: None,
            pending: None,
            experimental: false,
            expert: false,
            debug: false,
        }
    }

    fn prompt(&mut self) {
        if self.interactive {
            let flags: String = [
                (self.experimental, 'x'),
                (self.expert, 'e'),
                (self.debug, 'd'),
            ]
            .iter()
            .filter_map(|&(on, c)| on.then_some(c))
            .collect();
            let flags = if flags.is_empty() {
                flags
            } else {
                format!("({flags})")
            };
            let p = match self.dest {
                Dest::Master => format!("master{flags}> "),
                Dest::Worker(pid) => format!("{pid}{flags}> "),
            };
            self.out.extend_from_slice(p.as_bytes());
        }
    }

    /// What goes before a forwarded line so that the worker runs it at the
    /// session's level and modes (the trailing `-` keeps them silent).
    fn worker_prefix(&self) -> String {
        let mut p = String::new();
        match self.level {
            CliLevel::User => p.push_str("user -;"),
            CliLevel::Operator => p.push_str("operator -;"),
            CliLevel::Admin => {}
        }
        if self.expert {
            p.push_str("expert-mode on -;");
        }
        if self.experimental {
            p.push_str("experimental-mode on -;");
        }
        p
    }
}

/// What one line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum LineAction {
    /// Run `rest` at `dest` (`rest` empty: only switch the session to `dest`).
    Run {
        dest: Dest,
        rest: String,
        sticky: bool,
    },
    /// The prefix names no process: reply and close.
    NoTarget(String),
}

/// Splits a line's `@` prefix off. `find` maps a relative pid (1 = the
/// current worker) or a real pid (`!`) to a worker's pid.
pub fn route(line: &str, session: Dest, find: &dyn Fn(&str) -> Option<i32>) -> LineAction {
    let t = line.trim_start();
    let Some(p) = t.strip_prefix('@') else {
        return LineAction::Run {
            dest: session,
            rest: line.to_string(),
            sticky: false,
        };
    };
    let (word, rest) = p.split_once(char::is_whitespace).unwrap_or((p, ""));
    let dest = match word {
        "master" | "0" => Some(Dest::Master),
        w => find(w).map(Dest::Worker),
    };
    match dest {
        None => LineAction::NoTarget(format!(
            "Can't find the target PID matching the prefix '@{word}'\n"
        )),
        Some(dest) => LineAction::Run {
            dest,
            rest: rest.trim().to_string(),
            sticky: rest.trim().is_empty(),
        },
    }
}

impl Engine {
    /// The master CLI applet's task (see the module diagram).
    pub fn master_cli_run(&mut self, aid: AppletId) {
        let Some(sid) = self.applets.get(aid).map(|a| a.sid) else {
            return;
        };
        let mut consumed = false;
        for _ in 0..crate::cli::MAX_LINES_PER_RUN {
            let (Some(a), Some(s)) = (self.applets.get_mut(aid), self.streams.get_mut(sid)) else {
                return;
            };
            let AppletState::MasterCli(cli) = &mut a.state else {
                return;
            };
            if cli.out_pos < cli.out.len() {
                if !applet::put_reply(s, &mut self.io.bufs, &cli.out, &mut cli.out_pos) {
                    break;
                }
                cli.out.clear();
                cli.out_pos = 0;
            }
            if let Some(r) = &cli.relay {
                // Copy the worker's reply; its end of file ends the line.
                let mut buf = [0u8; 4096];
                // SAFETY: reading into a local buffer from our own socket.
                let n = unsafe { libc::read(r.fd, buf.as_mut_ptr().cast(), buf.len()) };
                if n > 0 {
                    cli.out
                        .extend_from_slice(buf.get(..n as usize).unwrap_or(&[]));
                    continue;
                }
                if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
                {
                    self.io.fds.cant_recv(r.fd);
                    break;
                }
                let fd = r.fd;
                cli.relay = None;
                let pending = cli.pending.take();
                if pending.is_none() {
                    cli.prompt();
                }
                self.io.fds.remove(fd);
                crate::conn::sock::close(fd);
                if let Some(p) = pending {
                    self.master_cli_commands(aid, &p);
                }
                continue;
            }
            if cli.closing {
                applet::finish(s, &mut self.io.bufs, &mut self.io.pipes);
                self.sched.wakeup(s.task);
                break;
            }
            let line = match next_line(&mut s.req) {
                Input::Line(l) => {
                    consumed = true;
                    s.req.release_empty(&mut self.io.bufs, &mut self.io.pipes);
                    l
                }
                Input::Wait => break,
                Input::End => {
                    cli.closing = true;
                    continue;
                }
            };
            self.master_cli_line(aid, &line);
        }
        self.applet_notify(sid, consumed);
    }

    /// Runs one line of a master CLI session: whole to the worker the
    /// session is attached to (`@1` alone on a line), else command by
    /// command on the master, where `@<n> <cmd>` forwards one command.
    fn master_cli_line(&mut self, aid: AppletId, line: &str) {
        let Some(AppletState::MasterCli(cli)) = self.applets.get(aid).map(|a| &a.state) else {
            return;
        };
        // `quit` ends the master's session, and the modes are the
        // master's to keep, wherever its lines go.
        let first = line.split([';', ' ', '\t']).find(|w| !w.is_empty());
        let master_only = matches!(
            first,
            Some("quit" | "expert-mode" | "experimental-mode" | "mcli-debug-mode")
        );
        match cli.dest {
            Dest::Worker(pid) if !master_only && !line.trim_start().starts_with('@') => {
                self.master_cli_forward(aid, pid, line);
            }
            _ => self.master_cli_commands(aid, line),
        }
    }

    /// Sends `rest` to worker `pid`'s CLI, at the session's level and
    /// modes; its reply is relayed as it comes (`master_cli_run`).
    fn master_cli_forward(&mut self, aid: AppletId, pid: i32, rest: &str) {
        let Some(AppletState::MasterCli(cli)) = self.applets.get_mut(aid).map(|a| &mut a.state)
        else {
            return;
        };
        let prefix = cli.worker_prefix();
        match self.master.as_ref().map(|m| m.connect_worker(pid)) {
            Some(Ok(fd)) => {
                let msg = format!("{prefix}{rest}\n");
                // One small write on a fresh socket, then our end of file:
                // the worker answers the line and closes.
                crate::conn::sock::write_all_blocking(fd, msg.as_bytes());
                crate::conn::sock::shutdown(fd, libc::SHUT_WR);
                if self.io.fds.insert(fd, FdOwner::Relay(aid)).is_err() {
                    crate::conn::sock::close(fd);
                    return;
                }
                self.io.fds.want_recv(fd);
                self.io.fds.may_recv(fd);
                cli.relay = Some(Relay { fd });
            }
            _ => {
                cli.out.extend_from_slice(
                    format!("Can't find the target PID matching the prefix '@!{pid}'\n").as_bytes(),
                );
                cli.closing = true;
            }
        }
    }

    /// Runs the `;`-separated master commands of a line.
    fn master_cli_commands(&mut self, aid: AppletId, line: &str) {
        let mut cmds = line.split(';');
        while let Some(mut cmd) = cmds.next() {
            // `@<n> <cmd>`: that one command goes to the process named, the
            // next ones run here once its reply is in (as 2.6).
            let routed = match (cmd.trim_start().starts_with('@'), self.master.as_ref()) {
                (true, Some(m)) => Some(route(cmd, Dest::Master, &|w| m.find_worker(w))),
                _ => None,
            };
            let Some(AppletState::MasterCli(cli)) = self.applets.get_mut(aid).map(|a| &mut a.state)
            else {
                return;
            };
            match routed {
                None => {}
                Some(LineAction::NoTarget(msg)) => {
                    cli.out.extend_from_slice(msg.as_bytes());
                    cli.closing = true;
                    return;
                }
                Some(LineAction::Run {
                    dest, sticky: true, ..
                }) => {
                    cli.dest = dest;
                    continue;
                }
                Some(LineAction::Run {
                    dest: Dest::Worker(pid),
                    rest,
                    ..
                }) => {
                    let pending: Vec<&str> = cmds.collect();
                    cli.pending = Some(pending.join(";")).filter(|p| !p.trim().is_empty());
                    self.master_cli_forward(aid, pid, &rest);
                    return;
                }
                Some(LineAction::Run {
                    dest: Dest::Master, ..
                }) => {
                    // `@master <cmd>` / `@0 <cmd>`: the command, here.
                    let t = cmd.trim_start();
                    cmd = t.split_once(char::is_whitespace).map_or("", |(_, r)| r);
                }
            }
            let w: Vec<&str> = cmd.split_whitespace().collect();
            let Some(AppletState::MasterCli(cli)) = self.applets.get_mut(aid).map(|a| &mut a.state)
            else {
                return;
            };
            let lvl = cli.level;
            let reply: String = match w.as_slice() {
                [] if line.trim().is_empty() => format!(
                    "Unknown command. Please enter one of the following commands only:\n{}\n",
                    HELP.split_once('\n').map_or("", |(_, r)| r)
                ),
                [] => continue,
                ["help", ..] => format!("{HELP}\n"),
                ["quit", ..] => {
                    // 2.6 prompts once more, then closes.
                    cli.prompt();
                    cli.closing = true;
                    return;
                }
                ["prompt", ..] => {
                    cli.interactive = !cli.interactive;
                    continue;
                }
                ["show", "version", ..] => format!("{}\n\n", crate::cfg::cond::VERSION),
                ["show", "cli", "level", ..] => format!("{}\n\n", level_name(lvl)),
                ["show", "cli", "sockets", ..] => "\n".into(),
                [l @ ("operator" | "user")] => {
                    let want = if *l == "user" {
                        CliLevel::User
                    } else {
                        CliLevel::Operator
                    };
                    if want > lvl {
                        cli.out.extend_from_slice(b"Permission denied!\n");
                        cli.closing = true;
                        return;
                    }
                    cli.level = want;
                    continue;
                }
                [
                    m @ ("expert-mode" | "experimental-mode" | "mcli-debug-mode"),
                    args @ ..,
                ] => {
                    if lvl < CliLevel::Admin {
                        cli.out.extend_from_slice(b"Permission denied!\n");
                        cli.closing = true;
                        return;
                    }
                    // `on` sets, anything else (nothing too) clears.
                    let on = args.first() == Some(&"on");
                    match *m {
                        "expert-mode" => cli.expert = on,
                        "experimental-mode" => cli.experimental = on,
                        _ => cli.debug = on,
                    }
                    continue;
                }
                ["reload", ..] if lvl < CliLevel::Operator => "Permission denied\n\n".into(),
                ["reload", ..] => {
                    // The connection goes with the re-execution, unanswered,
                    // as with HAProxy.
                    self.master_reload();
                    return;
                }
                ["show", "proc", ..] => self
                    .master
                    .as_ref()
                    .map_or_else(String::new, |m| m.show_proc(crate::log::wall_now().0)),
                _ => format!("{BETTER_MATCH}\n"),
            };
            cli.out.extend_from_slice(reply.as_bytes());
        }
        if let Some(AppletState::MasterCli(cli)) = self.applets.get_mut(aid).map(|a| &mut a.state)
            && !cli.closing
        {
            cli.prompt();
        }
    }

    /// A master CLI session ends: its relay, if any, is closed.
    pub fn master_cli_release(cli: &mut MasterCliApplet, fds: &mut crate::fd::FdTab) {
        if let Some(r) = cli.relay.take() {
            fds.remove(r.fd);
            crate::conn::sock::close(r.fd);
        }
    }
}

/// The level's name as `show cli level` prints it.
pub fn level_name(l: CliLevel) -> &'static str {
    match l {
        CliLevel::User => "user",
        CliLevel::Operator => "operator",
        CliLevel::Admin => "admin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(w: &str) -> Option<i32> {
        match w {
            "1" | "!4242" => Some(4242),
            "!4100" => Some(4100),
            _ => None,
        }
    }

    #[test]
    fn prefixes_pick_the_process() {
        assert_eq!(
            route("show proc", Dest::Master, &find),
            LineAction::Run {
                dest: Dest::Master,
                rest: "show proc".into(),
                sticky: false
            }
        );
        assert_eq!(
            route("@1 show info", Dest::Master, &find),
            LineAction::Run {
                dest: Dest::Worker(4242),
                rest: "show info".into(),
                sticky: false
            }
        );
        assert_eq!(
            route("@!4100", Dest::Master, &find),
            LineAction::Run {
                dest: Dest::Worker(4100),
                rest: String::new(),
                sticky: true
            }
        );
        assert_eq!(
            route("@master show proc", Dest::Worker(4242), &find),
            LineAction::Run {
                dest: Dest::Master,
                rest: "show proc".into(),
                sticky: false
            }
        );
        assert_eq!(
            route("@2 show info", Dest::Master, &find),
            LineAction::NoTarget("Can't find the target PID matching the prefix '@2'\n".into())
        );
        // A session set on a worker sends its plain lines there.
        assert_eq!(
            route("show info", Dest::Worker(4242), &find),
            LineAction::Run {
                dest: Dest::Worker(4242),
                rest: "show info".into(),
                sticky: false
            }
        );
    }
}
