//! Applets: stream ends driven by a task instead of a socket.
//!
//! A stream whose target is an applet gets one at connection time (its
//! back SI goes REQ -> EST without connecting). The applet reads the
//! request channel's output and writes the response channel's input,
//! through the same buffers a server connection would use; the front SI
//! then sends that to the client as for any stream. Its task runs when the
//! SI verbs wake it: request data arrived (`chk_snd`), room was made in the
//! response channel after it asked for it (`chk_rcv` with `SI_FL_WAIT_ROOM`),
//! or a shutdown happened.
//!
//! ```text
//!   client --conn--> [req] --applet reads output--> applet
//!   client <--conn-- [res] <--applet writes input-- applet
//! ```
//!
//! An applet that is done shuts its own side: `CF_SHUTW` on the request
//! (it reads no more) and `CF_SHUTR` on the response (it writes no more);
//! the stream then closes the client side once the reply is out. The stats
//! CLI is the first applet; the stats page, Prometheus, peers and the
//! master CLI use the same frame.

use crate::arena::{StreamId, TaskId};
use crate::cfg::model::CliLevel;
use crate::channel::CfFlags;
use crate::cli::CliApplet;
use crate::conn::Side;
use crate::engine::Engine;
use crate::stream::Stream;

pub use crate::arena::AppletId;

/// Which applet serves a stream (what a frontend's target names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppletKind {
    /// The stats socket's command line, at this level.
    Cli(CliLevel),
    /// The master CLI, at this level.
    MasterCli(CliLevel),
}

/// An applet's own state, per kind.
#[derive(Debug)]
pub enum AppletState {
    Cli(CliApplet),
    MasterCli(crate::master::cli::MasterCliApplet),
}

/// An applet attached to a stream.
#[derive(Debug)]
pub struct Applet {
    /// The stream it serves.
    pub sid: StreamId,
    /// Its task.
    pub task: TaskId,
    pub state: AppletState,
}

impl Applet {
    /// A fresh applet of `kind` for stream `sid`, run by `task`.
    pub fn new(kind: AppletKind, sid: StreamId, task: TaskId) -> Self {
        let state = match kind {
            AppletKind::Cli(level) => AppletState::Cli(CliApplet::new(level)),
            AppletKind::MasterCli(level) => {
                AppletState::MasterCli(crate::master::cli::MasterCliApplet::new(level))
            }
        };
        Applet { sid, task, state }
    }
}

/// Frees what an applet holds besides its memory (a master CLI relay).
pub fn release(a: &mut Applet, fds: &mut crate::fd::FdTab) {
    if let AppletState::MasterCli(m) = &mut a.state {
        Engine::master_cli_release(m, fds);
    }
}

/// Moves `pending[*pos..]` into the stream's response channel as far as it
/// has room and schedules it for forwarding. Returns true when everything
/// went in; otherwise the applet is marked as waiting for room (the front
/// SI's sends wake it through `chk_rcv`).
pub fn put_reply(
    s: &mut Stream,
    bufs: &mut crate::buf::BufPool,
    pending: &[u8],
    pos: &mut usize,
) -> bool {
    let rest = pending.get(*pos..).unwrap_or(&[]);
    *pos += s.res.put_input(bufs, rest);
    s.res.forward_input();
    if *pos >= pending.len() {
        return true;
    }
    s.res.flags.insert(CfFlags::FULL);
    s.si[1].flags.insert(crate::si::SiFlags::WAIT_ROOM);
    false
}

/// The applet is done: it reads no more (its request input is dropped) and
/// writes no more. The stream closes the client side once the response is
/// out.
pub fn finish(
    s: &mut Stream,
    bufs: &mut crate::buf::BufPool,
    pipes: &mut crate::buf::pipe::PipePool,
) {
    s.req.drop_data(bufs, pipes);
    s.req.flags.insert(CfFlags::SHUTW);
    s.res.flags.insert(CfFlags::SHUTR | CfFlags::READ_NULL);
}

impl Engine {
    /// After an applet ran: the client side sends what it produced, and
    /// reads again if the applet made room in a full request channel.
    pub fn applet_notify(&mut self, sid: StreamId, consumed: bool) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let task = s.task;
        let mut cx = crate::si::SiCtx::new(&mut self.io, &mut self.sched, self.clock.now, task);
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
