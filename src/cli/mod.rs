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

use crate::applet::{self, AppletId, AppletState};
use crate::cfg::model::CliLevel;
use crate::channel::CfFlags;
use crate::conn::Side;
use crate::engine::Engine;

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
        }
    }
}

/// What the request channel offers the CLI.
enum Input {
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
fn next_line(req: &mut crate::channel::Channel) -> Input {
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
        // Each round either waits, finishes, or runs one line: bounded by
        // the lines a buffer can hold.
        for _ in 0..4096 {
            let (Some(a), Some(s)) = (self.applets.get_mut(aid), self.streams.get_mut(sid)) else {
                return;
            };
            let AppletState::Cli(cli) = &mut a.state;
            if cli.out_pos < cli.out.len() {
                if !applet::put_reply(s, &mut self.io.bufs, &cli.out, &mut cli.out_pos) {
                    break;
                }
                cli.out.clear();
                cli.out_pos = 0;
            }
            if cli.closing {
                applet::finish(s, &mut self.io.bufs, &mut self.io.pipes);
                self.sched.wakeup(s.task);
                break;
            }
            let line = match next_line(&mut s.req) {
                Input::Line(l) => {
                    consumed = true;
                    l
                }
                Input::Wait => break,
                Input::End => {
                    cli.closing = true;
                    continue;
                }
            };
            let level = cli.level;
            let (reply, quit, prompt) = self.cli_run_line(&line, level);
            let Some(a) = self.applets.get_mut(aid) else {
                return;
            };
            let AppletState::Cli(cli) = &mut a.state;
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
        self.applet_notify(sid, consumed);
    }

    /// Runs the `;`-separated commands of one line. Returns the reply, and
    /// whether `quit` and `prompt` were among them.
    fn cli_run_line(&mut self, line: &str, level: CliLevel) -> (String, bool, bool) {
        let mut out = String::new();
        let (mut quit, mut prompt) = (false, false);
        for cmd in line.split(';') {
            match cmd.trim() {
                "" => {}
                "quit" => quit = true,
                "prompt" => {
                    prompt = true;
                    out.push('\n');
                }
                c => out.push_str(&self.cli_execute(c, level)),
            }
        }
        (out, quit, prompt)
    }

    /// After an applet ran: the client side sends what it produced, and
    /// reads again if the applet made room in a full request channel.
    pub fn applet_notify(&mut self, sid: crate::stream::StreamId, consumed: bool) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let task = s.task;
        let mut cx = crate::si::SiCtx {
            io: &mut self.io,
            sched: &mut self.sched,
            now: self.clock.now,
            task,
        };
        let (front, _, ic, oc) = s.split(Side::Front);
        if front.state() == crate::si::SiState::Est {
            if consumed {
                front.chk_rcv(ic, &mut cx);
            }
            if oc.has_output() && crate::stream::io::send(s, Side::Front, &mut cx) {
                cx.sched.wakeup(task);
            }
        }
        s.note_timers(&mut self.sched, &self.clock);
    }
}
