//! The stats socket (runtime API, management.txt 9.3): a line-based command
//! interpreter, run as an applet at the end of a stream.
//!
//! A stats socket is a listener of the internal `GLOBAL` frontend, whose
//! streams target the CLI applet; `stats timeout` is that frontend's client
//! timeout. Non-interactive mode (the default): the client sends one line,
//! commands separated by `;` run in turn, the reply is written and the
//! connection closes. `prompt` switches to interactive mode: each reply
//! ends with an empty line and a `> ` prompt, until `quit` or the client
//! closes. A line that does not fit in a buffer closes the session.
//!
//! ```text
//!   wait for a line --line--> run its commands --> reply into the response
//!        ^                                             | interactive
//!        +---------------------------------------------+
//!                                                      | one-shot, quit, client gone,
//!                                                      v line too long
//!                                   closing: reply out, then the applet finishes
//! ```
//!
//! This module moves lines and replies; `commands.rs` turns one command
//! into text.

pub mod commands;
pub mod maps;
pub mod ssl;
pub mod ssl_cafile;
pub mod ssl_crtlist;

use crate::applet::{self, AppletId, AppletState};
use crate::cfg::model::CliLevel;
use crate::channel::CfFlags;
use crate::engine::Engine;

/// Lines one run of the applet may answer before it yields to the loop.
pub(crate) const MAX_LINES_PER_RUN: usize = 1024;

/// The CLI applet's state.
#[derive(Debug)]
pub struct CliApplet {
    pub level: CliLevel,
    interactive: bool,
    /// Reply bytes not yet in the response channel.
    out: Vec<u8>,
    out_pos: usize,
    /// No more command will be read: finish once the reply is out.
    closing: bool,
    /// A command whose line ended in `<<`, and its payload lines so far.
    payload: Option<(String, String)>,
    /// `expert-mode` and `experimental-mode` of the session.
    modes: CliModes,
}

/// A session's `expert-mode` and `experimental-mode` (admin only). No
/// command of haproxy-rs needs them yet; they are kept and reported as
/// HAProxy does, and the master CLI carries them to the workers.
#[derive(Debug, Clone, Copy, Default)]
pub struct CliModes {
    pub expert: bool,
    pub experimental: bool,
}

impl CliApplet {
    /// A session at `level`, non-interactive.
    pub fn new(level: CliLevel) -> Self {
        CliApplet {
            level,
            interactive: false,
            out: Vec::new(),
            out_pos: 0,
            closing: false,
            payload: None,
            modes: CliModes::default(),
        }
    }
}

/// What the request channel offers the CLI.
pub(crate) enum Input {
    /// A command line (without its line end).
    Line(String),
    /// Nothing to run now: wait for more.
    Wait,
    /// No line will come any more (client gone, or a line too long).
    End,
}

/// Takes the next line from the request channel's output. The client's
/// shutdown ends a last line that lacks its LF; a buffer full of one line
/// without LF is a line too long.
pub(crate) fn next_line(req: &mut crate::channel::Channel) -> Input {
    let mut raw = Vec::new();
    if let Some(n) = req.out_line_len() {
        req.take_out(n, &mut raw);
    } else if req.flags.intersects(CfFlags::SHUTR | CfFlags::SHUTW) {
        let n = req.out_len();
        if n == 0 {
            return Input::End;
        }
        req.take_out(n, &mut raw);
    } else if req.buf.as_ref().is_some_and(|b| b.room() == 0) {
        return Input::End;
    } else {
        return Input::Wait;
    }
    let line = String::from_utf8_lossy(&raw);
    Input::Line(line.trim_end_matches(['\r', '\n']).to_string())
}

impl Engine {
    /// The CLI applet's task: flushes the pending reply, then runs the
    /// commands of each complete line, until it has to wait for room, for a
    /// line, or it is done.
    pub fn cli_applet_run(&mut self, aid: AppletId) {
        let Some(sid) = self.applets.get(aid).map(|a| a.sid) else {
            return;
        };
        let mut consumed = false;
        let mut settled = false;
        // Each round either waits, finishes, or runs one line. The rounds
        // are bounded so that one busy session cannot hold the loop; if the
        // bound is reached, the applet runs again next turn.
        for _ in 0..MAX_LINES_PER_RUN {
            let (Some(a), Some(s)) = (self.applets.get_mut(aid), self.streams.get_mut(sid)) else {
                return;
            };
            let AppletState::Cli(cli) = &mut a.state else {
                return;
            };
            if cli.out_pos < cli.out.len() {
                if !applet::put_reply(s, &mut self.io.bufs, &cli.out, &mut cli.out_pos) {
                    settled = true;
                    break;
                }
                cli.out.clear();
                cli.out_pos = 0;
            }
            if cli.closing {
                applet::finish(s, &mut self.io.bufs, &mut self.io.pipes);
                self.sched.wakeup(s.task);
                settled = true;
                break;
            }
            let line = match next_line(&mut s.req) {
                Input::Line(l) => {
                    consumed = true;
                    // An idle session holds no buffer.
                    s.req.release_empty(&mut self.io.bufs, &mut self.io.pipes);
                    l
                }
                Input::Wait => {
                    settled = true;
                    break;
                }
                Input::End => {
                    cli.closing = true;
                    continue;
                }
            };
            // A line ending in `<<` opens a payload: the lines up to an
            // empty one, given to that command (management.txt 9.3, `add
            // map`); an interactive session prompts each with "+ ".
            if let Some((_, text)) = cli.payload.as_mut()
                && !line.is_empty()
            {
                text.push_str(&line);
                text.push('\n');
                if cli.interactive {
                    cli.out.extend_from_slice(b"+ ");
                }
                continue;
            }
            let payload = cli.payload.take();
            if payload.is_none()
                && let Some(cmd) = line.trim_end().strip_suffix("<<")
            {
                cli.payload = Some((cmd.to_string(), String::new()));
                if cli.interactive {
                    cli.out.extend_from_slice(b"+ ");
                }
                continue;
            }
            let mut level = cli.level;
            let mut modes = cli.modes;
            let (reply, quit, prompt) = match payload {
                Some((cmd, text)) => {
                    let r = self.cli_execute_payload(cmd.trim(), level, Some(&text));
                    (r, false, false)
                }
                None if line.trim() == "_getsocks" => (self.cli_getsocks(sid), true, false),
                None => cli_run_line(self, &line, &mut level, &mut modes),
            };
            let Some(a) = self.applets.get_mut(aid) else {
                return;
            };
            let AppletState::Cli(cli) = &mut a.state else {
                return;
            };
            cli.level = level;
            cli.modes = modes;
            if prompt {
                cli.interactive = !cli.interactive;
            }
            cli.out.extend_from_slice(reply.as_bytes());
            if cli.interactive && !quit {
                // Every reply already ends with its empty line: HAProxy's
                // interactive terminator "\n> " is that line and "> ".
                cli.out.extend_from_slice(b"> ");
            } else {
                // One-shot mode answers one line; `quit` ends the session.
                cli.closing = true;
            }
        }
        if !settled && let Some(a) = self.applets.get(aid) {
            self.sched.wakeup(a.task);
        }
        self.applet_notify(sid, consumed);
    }

    /// `_getsocks` (HAProxy's socket transfer, `-x`): on a socket with
    /// `expose-fd listeners`, the listening sockets are sent to the client
    /// as SCM_RIGHTS (`listener::xfer`); the reply is otherwise a refusal.
    fn cli_getsocks(&mut self, sid: crate::arena::StreamId) -> String {
        let Some(s) = self.streams.get(sid) else {
            return String::new();
        };
        let exposed = self.listeners.get(s.listener).is_some_and(|l| l.expose_fd);
        if !exposed {
            // 2.6 closes without a word.
            return String::new();
        }
        let crate::si::End::Conn(cid) = s.si[0].end else {
            return String::new();
        };
        let Some(cfd) = self.io.conns.get(cid).map(|c| c.fd) else {
            return String::new();
        };
        let socks: Vec<i32> = self
            .listeners
            .iter()
            .filter(|l| {
                matches!(
                    l.kind,
                    crate::listener::LiKind::Proxy | crate::listener::LiKind::Cli(_)
                ) && l.state != crate::listener::LiState::Closed
            })
            .map(|l| l.fd)
            .collect();
        if let Err(e) = crate::listener::xfer::send_listeners(cfd, &socks) {
            log::warn!("_getsocks: {e}");
        }
        String::new()
    }
}

/// The CLI applet on a hand-built stream, without sockets: the request
/// channel is filled by hand as a client connection would, the applet task
/// is run, and the response channel is read back.
/// Runs the `;`-separated commands of one line. Returns the reply, and
/// whether `quit` and `prompt` were among them. `user` and `operator`
/// lower the session's `level`; asking for more ends the session. Every
/// command's reply ends with an empty line, even an empty reply; a last
/// argument `-` silences `user`, `operator` and the modes' `on`/`off`
/// (the master CLI prefixes forwarded lines with them, as 2.6's does).
fn cli_run_line(
    e: &mut Engine,
    line: &str,
    level: &mut CliLevel,
    modes: &mut CliModes,
) -> (String, bool, bool) {
    let mut out = String::new();
    let (mut quit, mut prompt) = (false, false);
    for cmd in line.split(';') {
        let w: Vec<&str> = cmd.split_whitespace().collect();
        let silent = w.len() > 1 && w.last() == Some(&"-");
        match w.as_slice() {
            [] => {}
            ["quit"] => quit = true,
            ["prompt"] => {
                prompt = true;
                out.push('\n');
            }
            [l @ ("user" | "operator"), ..] => {
                let want = if *l == "user" {
                    CliLevel::User
                } else {
                    CliLevel::Operator
                };
                if want > *level {
                    out.push_str("Permission denied!\n");
                    quit = true;
                    break;
                }
                *level = want;
                if !silent {
                    out.push('\n');
                }
            }
            [m @ ("expert-mode" | "experimental-mode"), args @ ..] => {
                if *level < CliLevel::Admin {
                    out.push_str("Permission denied\n\n");
                    continue;
                }
                let flag = if *m == "expert-mode" {
                    &mut modes.expert
                } else {
                    &mut modes.experimental
                };
                match args.first() {
                    None => {
                        let on = if *flag { "ON" } else { "OFF" };
                        out.push_str(&format!("{m} is {on}\n\n"));
                    }
                    Some(a) => {
                        *flag = *a == "on";
                        if !silent {
                            out.push('\n');
                        }
                    }
                }
            }
            ["show", "cli", "level"] => {
                out.push_str(crate::master::cli::level_name(*level));
                out.push_str("\n\n");
            }
            _ => out.push_str(&e.cli_execute(cmd.trim(), *level)),
        }
    }
    (out, quit, prompt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applet::AppletKind;
    use crate::arena::StreamId;
    use crate::channel::AnFlags;
    use crate::si::{End, SiState};
    use crate::stream::{Stream, Target};
    use crate::task::TaskKind;

    /// An engine for `listen l` with one server `s1` (weight 3), and a CLI
    /// stream on it whose client end is absent (End::None: nothing is sent,
    /// the response channel keeps what the applet wrote).
    fn setup(level: CliLevel) -> (Engine, StreamId) {
        let env = |_: &str| None;
        let mut p = crate::cfg::parse::Parser::new(&env);
        p.parse_text(
            "defaults\n mode tcp\n timeout client 5s\n timeout connect 1s\n timeout server 5s\n\
             listen l\n bind 127.0.0.1:1\n server s1 127.0.0.1:9 weight 3\n",
            "t.cfg",
        );
        p.check();
        assert_eq!(p.diags.alerts(), 0);
        let mut e = Engine::new(&p.cfg, 100, 0, true).expect("engine");
        let sid = e.streams.next_id();
        let task = e.sched.create(TaskKind::Stream(sid));
        let target = Target::Applet(AppletKind::Cli(level));
        let s = Stream::new(sid, task, e.cli_fe, 0, target, AnFlags::empty());
        e.streams.insert(s);
        e.cli_streams += 1;
        // First run: the back SI gets its applet (REQ -> EST).
        e.process_stream(sid);
        (e, sid)
    }

    /// Appends `bytes` to the request as a client read would (all output:
    /// nothing analyses a CLI request), and passes them on to the applet
    /// as the read callback does (`chk_snd` on the back SI).
    fn client_sends(e: &mut Engine, sid: StreamId, bytes: &[u8]) {
        let Some(s) = e.streams.get_mut(sid) else {
            panic!("stream {sid} is gone");
        };
        s.req.put_input(&mut e.io.bufs, bytes);
        s.req.forward_input();
        let task = s.task;
        let mut cx = crate::si::SiCtx::new(&mut e.io, &mut e.sched, e.clock.now, task);
        let (back, _, ic, oc) = s.split(crate::conn::Side::Back);
        back.chk_snd(ic, oc, &mut cx);
    }

    /// Runs every runnable task once.
    fn run_tasks(e: &mut Engine) {
        while let Some((tid, kind)) = e.sched.pop_runnable() {
            match kind {
                TaskKind::Stream(sid) => e.process_stream(sid),
                TaskKind::Applet(aid) => e.applet_run(aid),
                TaskKind::Stopper
                | TaskKind::Check(..)
                | TaskKind::Handshake(_)
                | TaskKind::PoolPurge
                | TaskKind::KeepAlive(_) => e.sched.destroy(tid),
            }
        }
    }

    /// Takes what the applet wrote to the response so far.
    fn reply(e: &mut Engine, sid: StreamId) -> String {
        let s = e.streams.get_mut(sid).expect("stream");
        let mut out = Vec::new();
        let n = s.res.out_len();
        s.res.take_out(n, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn the_stream_attaches_the_cli_applet() {
        let (e, sid) = setup(CliLevel::Admin);
        let s = e.streams.get(sid).expect("stream");
        assert_eq!(s.si[1].state(), SiState::Est);
        assert!(matches!(s.si[1].end, End::Applet { .. }));
        assert_eq!(e.applets.len(), 1);
    }

    #[test]
    fn one_shot_command_replies_then_finishes() {
        let (mut e, sid) = setup(CliLevel::Admin);
        client_sends(&mut e, sid, b"get weight l/s1\n");
        run_tasks(&mut e);
        assert_eq!(reply(&mut e, sid), "3 (initial 3)\n\n");
        let s = e.streams.get(sid).expect("stream");
        assert!(s.res.flags.contains(CfFlags::SHUTR), "no more output");
        assert!(s.req.flags.contains(CfFlags::SHUTW), "no more input read");
    }

    #[test]
    fn a_line_split_across_reads_runs_once_complete() {
        let (mut e, sid) = setup(CliLevel::Admin);
        client_sends(&mut e, sid, b"get wei");
        run_tasks(&mut e);
        assert_eq!(reply(&mut e, sid), "");
        client_sends(&mut e, sid, b"ght l/s1\r\n");
        run_tasks(&mut e);
        assert_eq!(reply(&mut e, sid), "3 (initial 3)\n\n");
    }

    #[test]
    fn interactive_mode_prompts_and_levels_are_enforced() {
        let (mut e, sid) = setup(CliLevel::Operator);
        client_sends(&mut e, sid, b"prompt\nset weight l/s1 7\nget weight l/s1\n");
        run_tasks(&mut e);
        assert_eq!(
            reply(&mut e, sid),
            "\n> Permission denied\n\n> 3 (initial 3)\n\n> "
        );
        let s = e.streams.get(sid).expect("stream");
        assert!(!s.res.flags.contains(CfFlags::SHUTR), "session stays open");
        client_sends(&mut e, sid, b"quit\n");
        run_tasks(&mut e);
        // Nothing left to send: both sides are done and the stream is freed
        // with its applet.
        assert!(!e.streams.contains(sid));
        assert!(e.applets.is_empty());
        assert_eq!(e.cli_streams, 0);
    }

    #[test]
    fn a_reply_larger_than_the_buffer_waits_for_room() {
        let (mut e, sid) = setup(CliLevel::Admin);
        // Enough help screens for one and a half buffers.
        let n = e.io.bufs.buf_size() * 3 / 2 / e.cli_execute("help", CliLevel::Admin).len() + 1;
        let line = format!("{}\n", vec!["help"; n].join(";"));
        client_sends(&mut e, sid, line.as_bytes());
        run_tasks(&mut e);
        let first = reply(&mut e, sid);
        let bufsize = e.io.bufs.buf_size();
        assert_eq!(first.len(), bufsize, "the applet fills the buffer");
        let s = e.streams.get(sid).expect("stream");
        assert!(s.si[1].flags.contains(crate::si::SiFlags::WAIT_ROOM));
        assert!(!s.res.flags.contains(CfFlags::SHUTR), "not done yet");
        // The client side made room: the applet is woken and goes on.
        let s = e.streams.get_mut(sid).expect("stream");
        let task = s.task;
        let mut cx = crate::si::SiCtx::new(&mut e.io, &mut e.sched, e.clock.now, task);
        s.si[1].chk_rcv(&mut s.res, &mut cx);
        run_tasks(&mut e);
        let rest = reply(&mut e, sid);
        let help = e.cli_execute("help", CliLevel::Admin);
        assert_eq!(first.len() + rest.len(), n * help.len());
        assert!(rest.ends_with(&help));
    }

    #[test]
    fn a_full_buffer_without_line_end_ends_the_session_without_reply() {
        let (mut e, sid) = setup(CliLevel::Admin);
        let size = e.io.bufs.buf_size();
        client_sends(&mut e, sid, &vec![b'x'; size]);
        run_tasks(&mut e);
        // No reply, the line dropped: the stream ends with its applet.
        assert!(!e.streams.contains(sid));
        assert!(e.applets.is_empty());
        assert_eq!((e.io.bufs.used, e.cli_streams), (0, 0));
    }
}
