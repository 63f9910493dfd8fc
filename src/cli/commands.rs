//! Stats socket commands: `help`, `show info`, `show stat`, server state and
//! weight changes. Output follows HAProxy 2.6's text formats.
//!
//! Lint policy: the command words are matched with slice patterns and the
//! weight argument is read by the panic-free `parse_weight_change`, but
//! `clippy::indexing_slicing` is not denied here: `show stat` fills its rows
//! by fixed column number in a vector of `NCOLS` cells (`c[17] = ...`), and
//! rewriting those rows is outside what a lint change should touch.

use crate::cfg::model::CliLevel;
use crate::engine::Engine;
use crate::proxy::SrvState;
use std::fmt::Write as _;

const HELP: &str = "The following commands are valid at this level:
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect
  show info                               : report information about the running process
  show stat                               : report counters for each proxy and server
  show version                            : show version of the current process
  show cli level                          : display the level of the current CLI session
  operator                                : lower the level of the current CLI session to operator
  user                                    : lower the level of the current CLI session to user
  get weight <bk>/<srv>                   : report a server's current weight
  set weight <bk>/<srv> (<w>|<w>%)        : change a server's weight
  set server <bk>/<srv> state <st>        : set a server's state (ready|drain|maint)
  disable server <bk>/<srv>               : disable a server for maintenance (use 'enable' to reenable)
  enable server <bk>/<srv>                : enable a disabled server
  add acl [@<ver>] <acl> <pattern>        : add an acl entry
  add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)
  clear acl [@<ver>] <acl>                : clear the contents of this acl
  clear map [@<ver>] <map>                : clear the contents of this map
  commit acl @<ver> <acl>                 : commit the ACL at this version
  commit map @<ver> <map>                 : commit the map at this version
  del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>
  del map <map> [<key>|#<ref>]            : delete map entries matching <key>
  get acl <acl> <value>                   : report the patterns matching a sample for an ACL
  get map <acl> <value>                   : report the keys and values matching a sample for a map
  prepare acl <acl>                       : prepare a new version for atomic ACL replacement
  prepare map <acl>                       : prepare a new version for atomic map replacement
  set map <map> [<key>|#<ref>] <value>    : modify a map entry
  show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents
  show map [@ver] [map]                   : report available maps or dump a map's contents
  abort ssl ca-file <cafile>              : abort a transaction for a CA file
  abort ssl cert <certfile>               : abort a transaction for a certificate file
  abort ssl crl-file <crlfile>            : abort a transaction for a CRL file
  add ssl crt-list <list> <cert> [opts]*  : add to crt-list file <list> a line <cert> or a payload
  commit ssl ca-file <cafile>             : commit a CA file
  commit ssl cert <certfile>              : commit a certificate file
  commit ssl crl-file <crlfile>           : commit a CRL file
  del ssl ca-file <cafile>                : delete an unused CA file
  del ssl cert <certfile>                 : delete an unused certificate file
  del ssl crl-file <crlfile>              : delete an unused CRL file
  del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>
  new ssl ca-file <cafile>                : create a new CA file to be used in a crt-list
  new ssl cert <certfile>                 : create a new certificate file to be used in a crt-list or a directory
  new ssl crlfile <crlfile>               : create a new CRL file to be used in a crt-list
  set ssl ca-file <cafile> <payload>      : replace a CA file
  set ssl cert <certfile> <payload>       : replace a certificate file
  set ssl crl-file <crlfile> <payload>    : replace a CRL file
  set ssl tls-key [id|file] <key>         : set the next TLS key for the <id> or <file> listener to <key>
  show ssl ca-file [<cafile>[:<index>]]   : display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>
  show ssl cert [<certfile>]              : display the SSL certificates used in memory, or the details of a file
  show ssl crl-file [<crlfile[:<index>>]] : display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>
  show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of a crt-list file <list>
  show ssl ocsp-response [id]             : display the IDs of the OCSP responses used in memory, or the details of a single OCSP response
  show tls-keys [id|*]                    : show tls keys references or dump tls ticket keys when id specified
";

/// The `show stat` CSV header of HAProxy 2.6 (columns 0-99 are fixed).
const STAT_HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,";

const NCOLS: usize = 103;

/// The first word of `rest`, or "" (an absent CLI argument is an empty one,
/// as in HAProxy's `args[]`).
fn first<'a>(rest: &[&'a str]) -> &'a str {
    rest.first().copied().unwrap_or("")
}

/// HAProxy's `strtol(s, &end, 10)`: optional leading white space and sign,
/// then decimal digits, saturating at the bounds of a 64-bit `long`.
/// Returns the value and the unparsed rest; with no digit, the value is 0
/// and the rest is all of `s` (`end == s`).
fn strtol(s: &str) -> (i64, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let ndigits = t.bytes().take_while(u8::is_ascii_digit).count();
    if ndigits == 0 {
        return (0, s);
    }
    let (digits, rest) = t.split_at(ndigits);
    let v = digits.bytes().fold(0i64, |v, d| {
        let d = i64::from(d - b'0');
        if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        }
    });
    (v, rest)
}

/// The new weight of a server whose initial weight is `iweight` for the
/// CLI argument `arg` (`<w>` absolute, `<w>%` relative to `iweight`), or
/// the exact reply HAProxy 2.6 gives when it refuses it
/// (`server_parse_weight_change_request()`, management.txt `set weight`):
///
/// - a relative weight must not be negative; it is capped at 25600% before
///   the product (no overflow), and the result at 256;
/// - an absolute weight must be within 0..=256.
///
/// **Differs** (include-docs/configuration.md, `balance`): HAProxy also
/// refuses any weight but 0 and the initial one on a static algorithm
/// (static-rr, map-based `source`) with "Backend is using a static LB
/// algorithm and only accepts weights '0%' and '100%'."; haproxy-rs
/// balances them like roundrobin, so every weight applies.
///
/// Pure: no state is read or changed.
pub fn parse_weight_change(arg: &str, iweight: u32) -> Result<u32, &'static str> {
    if arg.is_empty() {
        return Err("Require <weight> or <weight%>.\n\n");
    }
    let (w, rest) = strtol(arg);
    if rest.len() == arg.len() {
        return Err("Empty weight string empty or preceded by garbage\n");
    }
    let w = if rest == "%" {
        if w < 0 {
            return Err("Relative weight must be positive.\n\n");
        }
        (i64::from(iweight) * w.min(25600) / 100).min(256)
    } else if !(0..=256).contains(&w) {
        return Err("Absolute weight can only be between 0 and 256 inclusive.\n\n");
    } else if !rest.is_empty() {
        return Err("Trailing garbage in weight string\n");
    } else {
        w
    };
    // 0..=256 here: both branches above bound it.
    Ok(u32::try_from(w).unwrap_or(0))
}

impl Engine {
    /// Runs one command at `level`; returns its reply as HAProxy 2.6 sends
    /// it on a non-interactive session: the output, then the empty line
    /// that ends every reply (so a command with no output answers "\n").
    pub fn cli_execute(&mut self, cmd: &str, level: CliLevel) -> String {
        self.cli_execute_payload(cmd, level, None)
    }

    /// [`Self::cli_execute`] for a command followed by a payload (its line
    /// ended in `<<`; the payload is the lines up to an empty one).
    pub fn cli_execute_payload(
        &mut self,
        cmd: &str,
        level: CliLevel,
        payload: Option<&str>,
    ) -> String {
        let w: Vec<&str> = cmd.split_whitespace().collect();
        let admin = level >= CliLevel::Admin;
        match w.as_slice() {
            ["help", ..] => format!("{HELP}\n"),
            [
                verb @ ("show" | "get" | "add" | "del" | "clear" | "prepare" | "commit"),
                kind @ ("map" | "acl"),
                rest @ ..,
            ] => self.cli_map(verb, *kind == "map", rest, payload),
            ["set", "map", rest @ ..] => self.cli_map("set", true, rest, payload),
            [
                verb @ ("show" | "new" | "set" | "commit" | "abort" | "del"),
                "ssl",
                what @ ("cert" | "ca-file" | "crl-file"),
                rest @ ..,
            ]
            | [
                verb @ ("show" | "add" | "del"),
                "ssl",
                what @ "crt-list",
                rest @ ..,
            ]
            | [verb @ "show", "ssl", what @ "ocsp-response", rest @ ..] => {
                super::ssl::cli_ssl(verb, what, rest, payload, level)
            }
            // Ticket keys are secrets: admin only.
            ["show", "tls-keys", rest @ ..] if admin => crate::ssl::tickets::cli_show(first(rest)),
            ["set", "ssl", "tls-key", rest @ ..] if admin => {
                crate::ssl::tickets::cli_set(first(rest), rest.get(1).copied().unwrap_or(""))
            }
            ["show", "tls-keys", ..] | ["set", "ssl", "tls-key", ..] if !admin => {
                "Permission denied\n\n".to_string()
            }
            ["show", "info", ..] => self.show_info(),
            ["show", "version", ..] => format!("{}\n\n", crate::cfg::cond::VERSION),
            ["show", "stat", ..] => self.show_stat(),
            ["get", "weight", rest @ ..] => match self.find_server(first(rest)) {
                Ok((p, s)) => {
                    let srv = &self.proxies[p].servers[s];
                    format!("{} (initial {})\n\n", srv.weight, srv.iweight)
                }
                Err(e) => e,
            },
            ["set", "weight", rest @ ..] => {
                self.set_weight(admin, first(rest), rest.get(1).copied().unwrap_or(""))
            }
            ["set", "server", bs, "weight", rest @ ..] => self.set_weight(admin, bs, first(rest)),
            ["disable", "server", bs]
            | ["enable", "server", bs]
            | ["set", "server", bs, "state", _] => {
                if !admin {
                    return "Permission denied\n\n".into();
                }
                let st = match w.as_slice() {
                    ["disable", ..] => SrvState::Maint,
                    ["enable", ..] => SrvState::Up,
                    [.., "ready"] => SrvState::Up,
                    [.., "maint"] => SrvState::Maint,
                    [.., "drain"] => SrvState::Drain,
                    _ => {
                        return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"
                            .into();
                    }
                };
                match self.find_server(bs) {
                    Ok((p, s)) => {
                        self.proxies[p].servers[s].state = st;
                        if st == SrvState::Up {
                            self.dequeue(p, s);
                        }
                        "\n".into()
                    }
                    Err(e) => e,
                }
            }
            _ => format!(
                "Unknown command: '{}'\n\n{HELP}\n",
                w.first().copied().unwrap_or("")
            ),
        }
    }

    /// `set weight <bk>/<srv> <w>[%]` and `set server <bk>/<srv> weight
    /// <w>[%]` (management.txt 9.3): changes the server's user weight when
    /// [`parse_weight_change`] accepts `wt`; returns the reply (a blank line
    /// on success, HAProxy's message otherwise).
    fn set_weight(&mut self, admin: bool, bs: &str, wt: &str) -> String {
        if !admin {
            return "Permission denied\n\n".into();
        }
        match self.find_server(bs) {
            Ok((p, s)) => {
                let srv = &mut self.proxies[p].servers[s];
                match parse_weight_change(wt, srv.iweight) {
                    Ok(v) => {
                        srv.weight = v;
                        "\n".into()
                    }
                    Err(e) => e.into(),
                }
            }
            Err(e) => e,
        }
    }

    fn find_server(&self, bs: &str) -> Result<(usize, usize), String> {
        let Some((b, s)) = bs.split_once('/') else {
            return Err("Require 'backend/server'.\n\n".into());
        };
        let Some(p) = self.proxies.iter().position(|p| p.is_be && p.name == b) else {
            return Err("No such backend.\n\n".into());
        };
        match self.proxies[p].servers.iter().position(|x| x.name == s) {
            Some(i) => Ok((p, i)),
            None => Err("No such server.\n\n".into()),
        }
    }

    /// `show info`, in HAProxy 2.6's field order.
    pub fn show_info(&self) -> String {
        let up = self.clock.now_abs / 1000;
        let (d, h, m, s) = (up / 86400, (up / 3600) % 24, (up / 60) % 60, up % 60);
        let node = crate::cfg::parse::local_hostname();
        let v = |n: &str, x: &dyn std::fmt::Display| format!("{n}: {x}\n");
        let mut o = String::new();
        o += &v("Name", &"HAProxy");
        o += &v("Version", &concat!("2.6.0-rs", env!("CARGO_PKG_VERSION")));
        o += &v("Release_date", &"2026/11/23");
        o += &v("Nbthread", &1);
        o += &v("Nbproc", &1);
        o += &v("Process_num", &1);
        o += &v("Pid", &std::process::id());
        o += &v("Uptime", &format!("{d}d {h}h{m:02}m{s:02}s"));
        o += &v("Uptime_sec", &up);
        o += &v("Memmax_MB", &0);
        o += &v(
            "PoolAlloc_MB",
            &((self.io.bufs.used + self.io.bufs.free_count()) * self.io.bufs.buf_size()
                / 1_048_576),
        );
        o += &v(
            "PoolUsed_MB",
            &(self.io.bufs.used * self.io.bufs.buf_size() / 1_048_576),
        );
        o += &v("PoolFailed", &0);
        let ulimit = crate::process::nofile().0;
        o += &v(
            "Ulimit-n",
            &if self.ulimit_n > 0 {
                self.ulimit_n
            } else {
                ulimit
            },
        );
        o += &v(
            "Maxsock",
            &if self.maxsock > 0 {
                self.maxsock
            } else {
                ulimit
            },
        );
        o += &v("Maxconn", &self.maxconn);
        o += &v("Hard_maxconn", &self.maxconn);
        o += &v("CurrConns", &self.actconn);
        o += &v("CumConns", &self.counters.cum_conns);
        o += &v("CumReq", &self.counters.cum_conns);
        for n in ["MaxSslConns", "CurrSslConns", "CumSslConns"] {
            o += &v(n, &crate::ssl::stats::info_value(n).unwrap_or(0));
        }
        o += &v("Maxpipes", &self.io.pipes.max);
        o += &v("PipesUsed", &self.io.pipes.used);
        o += &v("PipesFree", &self.io.pipes.free_count());
        for n in [
            "ConnRate",
            "ConnRateLimit",
            "MaxConnRate",
            "SessRate",
            "SessRateLimit",
            "MaxSessRate",
            "SslRate",
            "SslRateLimit",
            "MaxSslRate",
            "SslFrontendKeyRate",
            "SslFrontendMaxKeyRate",
            "SslFrontendSessionReuse_pct",
            "SslBackendKeyRate",
            "SslBackendMaxKeyRate",
            "SslCacheLookups",
            "SslCacheMisses",
            "CompressBpsIn",
            "CompressBpsOut",
            "CompressBpsRateLim",
        ] {
            o += &v(n, &crate::ssl::stats::info_value(n).unwrap_or(0));
        }
        o += &v("Tasks", &self.sched.len());
        o += &v("Run_queue", &self.sched.runq_len());
        o += &v("Idle_pct", &100);
        o += &v("node", &node);
        o += &v("Stopping", &(self.stopping as u8));
        o += &v("Jobs", &(self.streams.len() + self.listeners.len()));
        o += &v("Unstoppable Jobs", &0);
        o += &v("Listeners", &self.listeners.len());
        o += &v("ActivePeers", &0);
        o += &v("ConnectedPeers", &0);
        o += &v("DroppedLogs", &self.logger.dropped);
        o += &v("BusyPolling", &0);
        o += &v("FailedResolutions", &0);
        o += &v("TotalBytesOut", &self.counters.bytes_out);
        o += &v("TotalSplicdedBytesOut", &self.io.spliced_total);
        o += &v("BytesOutRate", &0);
        o += &v("DebugCommandsIssued", &0);
        o += &v("CumRecvLogs", &0);
        o += &v(
            "Build info",
            &concat!("2.6.0-rs", env!("CARGO_PKG_VERSION")),
        );
        o += &v("Memmax_bytes", &0);
        o += &v(
            "PoolAlloc_bytes",
            &((self.io.bufs.used + self.io.bufs.free_count()) * self.io.bufs.buf_size()),
        );
        o += &v(
            "PoolUsed_bytes",
            &(self.io.bufs.used * self.io.bufs.buf_size()),
        );
        o += &v("Start_time_sec", &self.start_time);
        o += &v("Tainted", &0);
        o.push('\n');
        o
    }

    /// `show stat` CSV: a FRONTEND row, server rows and a BACKEND row per proxy.
    pub fn show_stat(&self) -> String {
        let mut o = String::from(STAT_HEADER);
        o.push('\n');
        let pid = std::process::id();
        for p in &self.proxies {
            let mode = match p.mode {
                crate::cfg::model::Mode::Tcp => "tcp",
                crate::cfg::model::Mode::Http => "http",
            };
            if p.is_fe {
                let mut c = vec![String::new(); NCOLS];
                c[0] = p.name.clone();
                c[1] = "FRONTEND".into();
                c[4] = p.feconn.to_string();
                c[5] = p.feconn_max.to_string();
                c[6] = p.maxconn.to_string();
                c[7] = p.cum_conn.to_string();
                c[8] = p.bytes_in.to_string();
                c[9] = p.bytes_out.to_string();
                c[10] = p.denied.to_string();
                c[11] = "0".into();
                c[12] = "0".into();
                c[17] = if self.stopping { "STOP" } else { "OPEN" }.into();
                c[26] = pid.to_string();
                c[27] = p.id.to_string();
                c[28] = "0".into();
                c[32] = "0".into();
                c[75] = mode.into();
                c[79] = p.cum_conn.to_string();
                if p.mode == crate::cfg::model::Mode::Http {
                    http_cols(&mut c, &p.http_stats);
                    c[12] = p.http_stats.failed_req.to_string();
                    c[80] = p.http_stats.intercepted.to_string();
                }
                o += &c.join(",");
                o += ",\n";
            }
            if p.is_be {
                for s in &p.servers {
                    let mut c = vec![String::new(); NCOLS];
                    c[0] = p.name.clone();
                    c[1] = s.name.clone();
                    c[2] = s.queue.len().to_string();
                    c[3] = "0".into();
                    c[4] = s.cur_sess.to_string();
                    c[5] = s.max_sess.to_string();
                    c[6] = if s.maxconn > 0 {
                        s.maxconn.to_string()
                    } else {
                        String::new()
                    };
                    c[7] = s.cum_sess.to_string();
                    c[8] = s.bytes_in.to_string();
                    c[9] = s.bytes_out.to_string();
                    c[13] = s.failed_conns.to_string();
                    c[15] = s.retries.to_string();
                    c[16] = s.redispatches.to_string();
                    c[17] = match s.state {
                        SrvState::Up => "no check",
                        SrvState::Drain => "DRAIN",
                        SrvState::Down => "DOWN",
                        SrvState::Maint => "MAINT",
                    }
                    .into();
                    crate::check::fill_stat(s, &mut c);
                    c[18] = s.weight.to_string();
                    c[19] = if s.backup { "0" } else { "1" }.into();
                    c[20] = if s.backup { "1" } else { "0" }.into();
                    c[26] = pid.to_string();
                    c[27] = p.id.to_string();
                    c[28] = s.id.to_string();
                    c[30] = s.cum_sess.to_string();
                    c[32] = "2".into();
                    c[73] = s.addr.to_string();
                    c[75] = mode.into();
                    c[99] = s.iweight.to_string();
                    if p.mode == crate::cfg::model::Mode::Http {
                        http_cols(&mut c, &s.http_stats);
                    }
                    o += &c.join(",");
                    o += ",\n";
                }
                let mut c = vec![String::new(); NCOLS];
                let act = p.servers.iter().filter(|s| !s.backup && s.usable()).count();
                let bck = p.servers.iter().filter(|s| s.backup && s.usable()).count();
                c[0] = p.name.clone();
                c[1] = "BACKEND".into();
                c[2] = p.queue.len().to_string();
                c[3] = "0".into();
                c[4] = p.beconn.to_string();
                c[5] = "0".into();
                c[7] = p.cum_beconn.to_string();
                c[8] = p.bytes_in.to_string();
                c[9] = p.bytes_out.to_string();
                c[13] = (p.failed_conns + p.servers.iter().map(|s| s.failed_conns).sum::<u64>())
                    .to_string();
                c[15] = p.servers.iter().map(|s| s.retries).sum::<u64>().to_string();
                c[16] = p
                    .servers
                    .iter()
                    .map(|s| s.redispatches)
                    .sum::<u64>()
                    .to_string();
                c[17] = if act + bck > 0 { "UP" } else { "DOWN" }.into();
                c[18] = p
                    .servers
                    .iter()
                    .filter(|s| s.usable() && !s.backup)
                    .map(|s| s.weight)
                    .sum::<u32>()
                    .to_string();
                c[19] = act.to_string();
                c[20] = bck.to_string();
                c[26] = pid.to_string();
                c[27] = p.id.to_string();
                c[28] = "0".into();
                c[30] = p
                    .servers
                    .iter()
                    .map(|s| s.cum_sess)
                    .sum::<u64>()
                    .to_string();
                c[32] = "1".into();
                c[75] = mode.into();
                if p.mode == crate::cfg::model::Mode::Http {
                    http_cols(&mut c, &p.be_http_stats);
                    c[14] = p.be_http_stats.failed_resp.to_string();
                }
                c[76] = match p.balance {
                    crate::cfg::model::Balance::RoundRobin => "roundrobin",
                    crate::cfg::model::Balance::StaticRr => "static-rr",
                    crate::cfg::model::Balance::LeastConn => "leastconn",
                    crate::cfg::model::Balance::First => "first",
                    crate::cfg::model::Balance::Source => "source",
                }
                .into();
                let _ = write!(o, "{}", c.join(","));
                o += ",\n";
            }
        }
        o.push('\n');
        o
    }
}

/// The HTTP columns of a `show stat` row: hrsp_1xx .. hrsp_other
/// (39..44) and req_tot (48).
fn http_cols(c: &mut [String], st: &crate::http::HttpStats) {
    for (i, n) in st.hrsp.iter().enumerate() {
        if let Some(cell) = c.get_mut(39 + i) {
            *cell = n.to_string();
        }
    }
    if let Some(cell) = c.get_mut(48) {
        *cell = st.req_tot.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_reads_like_c() {
        assert_eq!(strtol("42%"), (42, "%"));
        assert_eq!(strtol("+7"), (7, ""));
        assert_eq!(strtol("-0%"), (0, "%"));
        assert_eq!(strtol(" 5x"), (5, "x"));
        assert_eq!(strtol("0x10"), (0, "x10"));
        assert_eq!(strtol("abc"), (0, "abc"));
        assert_eq!(strtol("-%"), (0, "-%"));
        assert_eq!(strtol("99999999999999999999999"), (i64::MAX, ""));
        assert_eq!(strtol("-99999999999999999999999%"), (i64::MIN, "%"));
    }

    #[test]
    fn relative_weights_are_capped_not_overflowed() {
        assert_eq!(parse_weight_change("50%", 10), Ok(5));
        assert_eq!(parse_weight_change("1000%", 10), Ok(100));
        assert_eq!(parse_weight_change("99999999999%", 10), Ok(256));
        // 256 * 16777216 = 2^32, and u32::MAX% of anything.
        assert_eq!(parse_weight_change("16777216%", 256), Ok(256));
        assert_eq!(parse_weight_change("4294967295%", 256), Ok(256));
        assert_eq!(parse_weight_change("99999999999%", 1), Ok(256));
        assert_eq!(parse_weight_change("50%", 0), Ok(0));
        assert_eq!(parse_weight_change("33%", 10), Ok(3));
        assert_eq!(
            parse_weight_change("-5%", 10),
            Err("Relative weight must be positive.\n\n")
        );
    }

    #[test]
    fn absolute_weights_and_garbage_get_haproxy_messages() {
        assert_eq!(parse_weight_change("0", 10), Ok(0));
        assert_eq!(parse_weight_change("256", 10), Ok(256));
        let range = Err("Absolute weight can only be between 0 and 256 inclusive.\n\n");
        for a in ["300", "-5", "300x", "99999999999999999999999"] {
            assert_eq!(parse_weight_change(a, 10), range, "{a}");
        }
        let garbage = Err("Trailing garbage in weight string\n");
        for a in ["5x", "5%x", "5%%", "0x10"] {
            assert_eq!(parse_weight_change(a, 10), garbage, "{a}");
        }
        let empty = Err("Empty weight string empty or preceded by garbage\n");
        for a in ["abc", "%", "-", "x5"] {
            assert_eq!(parse_weight_change(a, 10), empty, "{a}");
        }
        assert_eq!(
            parse_weight_change("", 10),
            Err("Require <weight> or <weight%>.\n\n")
        );
    }
}
