//! `log-format`: a custom log line, parsed once at start-up and rendered for
//! every logged stream (configuration.txt 8.2.6, "Custom log format"; other
//! parts of the 2.6 manual still call it 8.2.4).
//!
//! ```text
//!   "%ci:%cp [%tr] %{+Q}r"  --LogFormat::parse-->  [Var ci][Text ":"][Var cp]
//!                                                  [Sep][Text "["][Var tr]...
//!   LogVars { client, request_date, request_line, .. }
//!                           --LogFormat::render-->  127.0.0.1:5000 [..] "GET / HTTP/1.1"
//! ```
//!
//! Pure: the caller gathers every value in [`LogVars`]; only `LogTz::Local`
//! reads the process time zone (`localtime_r`). Behaviour checked byte for
//! byte against HAProxy 2.6.12 (`log stdout format raw`):
//!
//! - Spaces are separators and merge: a run of spaces is one separator, a
//!   separator at the start of the line is dropped, one at the end is kept.
//!   A separator is also dropped when nothing was written since the previous
//!   one, which happens only after `%o` or after `%hr %hrl %hs %hsl` when no
//!   header is captured: `%sq/%bq %hr %hs %{+Q}r` renders `0/0 "GET / ..."`
//!   without captures. A variable that renders an empty string (`%HQ`
//!   without query) still counts as written: `x %HQ %HQ y` is `x   y`.
//!   Other characters (tab included) are text, kept as written.
//! - `%%` is one `%`. `%` followed by a character that is neither a letter,
//!   a digit, white space, `{`, `[` nor `%` is dropped and the character is
//!   kept (`%-` renders `-`).
//! - Flags (`%{+Q,-X}var`): `Q` quotes strings (never numbers, dates,
//!   `%ts`/`%tsc`, nor hex values), `X` prints addresses, ports, `%Ts`,
//!   `%ms`, `%pid`, `%rt`, `%lc` in upper-case hex, `E` puts a `\` before
//!   `"`, `\` and `]` in strings, `M` is accepted and changes nothing. In one
//!   comma-separated item, the last `+` or `-` gives the sign and what
//!   follows it must be exactly the flag name (`++Q` adds Q, `+-Q` removes
//!   it, `+Q+X` adds only X, `+QX` and `Q` are ignored). Every variable
//!   starts from the flags set by the last `%o` (`%{+Q}o %{-Q}ci`).
//! - Missing strings print `-`, or `""` with `Q`. `%r` and `%HM %HP %HPO %HQ
//!   %HU %HV` print `<BADREQ>` when no request line was parsed.
//! - The request line and captured headers are encoded: bytes below 32, from
//!   127, `"` and `#` become `#XX` (hex), and in captured headers `{`, `|`,
//!   `}` too. `E` then escapes `\` and `]` (`"` is already encoded).
//! - With `X`, an AF_UNIX address ends the line there, as HAProxy does
//!   (HAProxy cannot print it in hex and truncates the line).
//! - `%[expr]` sample expressions are kept as [`Token`]s that render the
//!   caller's string from [`LogVars::samples`] (by order of appearance, see
//!   [`LogFormat::sample_exprs`]), or `-` when none is given: the rules
//!   engine evaluates them. Only the bracket syntax is checked here; fetch
//!   and converter names are checked by whoever compiles the expression.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::ops::ControlFlow;

/// `option tcplog` as a log-format string (configuration.txt 8.2.2).
pub const TCPLOG_FORMAT: &str =
    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
/// `option httplog` as a log-format string (configuration.txt 8.2.3).
pub const HTTPLOG_FORMAT: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
/// `option httplog clf` as a log-format string (configuration.txt 8.2.3).
pub const CLF_FORMAT: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
/// `option httpslog` as a log-format string (configuration.txt 8.2.4).
pub const HTTPSLOG_FORMAT: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc";

/// Per-variable options (`%{+Q,+X,+E,+M}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LfFlags(u8);

impl LfFlags {
    /// `Q`: quote strings.
    pub const QUOTE: LfFlags = LfFlags(1);
    /// `X`: hexadecimal addresses, ports and some numbers.
    pub const HEX: LfFlags = LfFlags(2);
    /// `E`: `\` before `"`, `\` and `]` in strings.
    pub const ESC: LfFlags = LfFlags(4);
    /// `M`: "mandatory", accepted by HAProxy 2.6 without visible effect.
    pub const MANDATORY: LfFlags = LfFlags(8);

    /// Whether every flag of `f` is set.
    pub fn has(self, f: LfFlags) -> bool {
        self.0 & f.0 == f.0
    }

    fn set(&mut self, f: LfFlags, on: bool) {
        if on { self.0 |= f.0 } else { self.0 &= !f.0 }
    }
}

/// Defines [`Var`] and the name table from one list: each variable as
/// written after `%`, and whether HAProxy 2.6 refuses it outside `mode http`.
macro_rules! vars {
    ($($name:ident $http:literal),* $(,)?) => {
        /// The variables of configuration.txt 8.2.6, named as written after `%`.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Var {
            $($name),*
        }

        /// Name, variable, HTTP only.
        const VARS: &[(&str, Var, bool)] = &[$((stringify!($name), Var::$name, $http)),*];
    };
}

vars! {
    o false, B false, CC true, CS true, H false, HM true, HP true, HPO true, HQ true,
    HU true, HV true, ID false, ST false, T false, Ta true, Tc false, Td false, Tl false,
    Th false, Ti true, Tq true, TR true, Tr true, Ts false, Tt false, Tu false, Tw false,
    U false, ac false, b false, bc false, bi false, bp false, bq false, ci false,
    cp false, f false, fc false, fi false, fp false, ft false, lc false, hr false,
    hrl false, hs false, hsl false, ms false, pid false, r true, rc false, rt false,
    s false, sc false, si false, sp false, sq false, sslc false, sslv false, t false,
    tr true, trg true, trl true, ts false, tsc false
}

/// One parsed element of a log-format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Verbatim text (never contains a space).
    Text(String),
    /// One or more spaces: one space, unless nothing was written since the
    /// previous separator or the start of the line.
    Sep,
    /// `%var` with its flags.
    Var(Var, LfFlags),
    /// `%[expr]`: the `index`-th sample expression of the format.
    Sample(usize, LfFlags),
}

/// A parsed log-format string (done once at start-up).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogFormat {
    tokens: Vec<Token>,
    /// The text between `%[` and `]` of each sample expression, in order.
    samples: Vec<String>,
}

/// How local dates (`%t %tr %Tl %trl`) are computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogTz {
    /// The process time zone (`localtime_r`), as HAProxy does.
    #[default]
    Local,
    /// A fixed offset east of UTC, in seconds (tests, or a caller that
    /// already knows the zone).
    Fixed(i32),
}

/// An address as HAProxy logs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogAddr<'a> {
    /// IPv4 or IPv6 address and port.
    Inet(SocketAddr),
    /// An AF_UNIX socket. `%ci %fi %bi %si` print `unix`. `%cp %fp` print
    /// `listener_id` (the bind line's `id`), in decimal even with `X`.
    /// `%bp %sp` print `0`, and with `X` the first two bytes of `path`
    /// as a big-endian hex port, as HAProxy 2.6 reads `sin_port` out of a
    /// `sockaddr_un` (server `unix@/tmp/x.sock` logs `2F74`).
    Unix { listener_id: u32, path: &'a [u8] },
}

/// Captured header values, one per `capture ... header` line (None when
/// that header was absent).
pub type Captures<'a> = &'a [Option<&'a [u8]>];

/// Everything a log line may show, gathered by the caller. `None` prints
/// `-` (or `""` with `Q`), as HAProxy does for a value it does not have;
/// timers hold -1 where HAProxy prints -1.
#[derive(Debug, Clone, Default)]
pub struct LogVars<'a> {
    /// `%ci %cp`: the accepted client address.
    pub client: Option<LogAddr<'a>>,
    /// `%fi %fp`: the accepting (frontend) address.
    pub frontend_addr: Option<LogAddr<'a>>,
    /// `%bi %bp`: the source address of the server connection.
    pub backend_src: Option<LogAddr<'a>>,
    /// `%si %sp`: the server address connected to.
    pub server_addr: Option<LogAddr<'a>>,
    /// `%f`, and `%ft` (with `~` appended when `is_ssl`).
    pub frontend: &'a str,
    /// The client connection is TLS (`%ft`).
    pub is_ssl: bool,
    /// `%b`.
    pub backend: &'a str,
    /// `%s`: HAProxy logs `<NOSRV>` when no server was assigned.
    pub server: &'a str,
    /// Accept date (seconds since the epoch, milliseconds): `%t %T %Tl %Ts %ms`.
    pub accept_date: (i64, u32),
    /// Request date, HAProxy's accept date + `%Th` + `%Ti` (the accept date
    /// when `%Ti` is -1): `%tr %trg %trl`.
    pub request_date: (i64, u32),
    /// Zone of the local dates.
    pub tz: LogTz,
    /// `%Th` handshake time (ms, -1 when not reached; so are the others).
    pub th: i64,
    /// `%Ti` idle time before the request.
    pub ti: i64,
    /// `%TR` time to receive the full request.
    pub treq: i64,
    /// `%Tq` = Th + Ti + TR (-1 when TR is -1).
    pub tq: i64,
    /// `%Tw` time in queues.
    pub tw: i64,
    /// `%Tc` connect time.
    pub tc: i64,
    /// `%Tr` server response time.
    pub tr: i64,
    /// `%Td` data transfer time = Tt - (Tq + Tw + Tc + Tr), -1 when one is.
    pub td: i64,
    /// `%Ta` active time = Tt - Th - Ti.
    pub ta: i64,
    /// `%Tt` total time.
    pub tt: i64,
    /// `%Tu` = Tt - Ti.
    pub tu: i64,
    /// `%ST` status code (0 in TCP mode, -1 when no response).
    pub status: i32,
    /// `%B` bytes sent to the client.
    pub bytes_out: u64,
    /// `%U` bytes received from the client.
    pub bytes_in: u64,
    /// `option logasap` logged before the end: `%B %Tt %Ta %Tu` get a `+`.
    pub logasap: bool,
    /// `%CC` captured request cookie.
    pub req_cookie: Option<&'a str>,
    /// `%CS` captured response cookie.
    pub res_cookie: Option<&'a str>,
    /// Termination state and cookie status: `%ts` prints the first two,
    /// `%tsc` all four (`----`, `CD--`...; TCP passes `--` for the last two).
    pub term: [u8; 4],
    /// `%ac %fc %bc %sc`: process, frontend, backend, server connections.
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srvconn: u32,
    /// `%rc` retries, with a `+` before it when `redispatched`.
    pub retries: u32,
    pub redispatched: bool,
    /// `%sq %bq` server and backend queue.
    pub srv_queue: u32,
    pub be_queue: u32,
    /// `%hr %hrl`: the request captures, one entry per `capture request
    /// header` (None when that header was absent). `None` (or empty) when
    /// the frontend captures nothing, or when no request was parsed
    /// (HAProxy 2.6 prints nothing for a `<BADREQ>` line even then).
    pub req_caps: Option<Captures<'a>>,
    /// `%hs %hsl`: the response captures, same rules.
    pub res_caps: Option<Captures<'a>>,
    /// `%r`: the request line as HAProxy rebuilds it (`METHOD URI VERSION`,
    /// `HTTP/1.0` for a 0.9 request, the default port removed from an
    /// absolute URI), None when no request was parsed (`<BADREQ>`).
    pub request_line: Option<&'a [u8]>,
    /// `%ID` unique-id.
    pub unique_id: Option<&'a str>,
    /// `%pid`.
    pub pid: u32,
    /// `%H` hostname.
    pub hostname: &'a str,
    /// `%rt` request counter (the stream's unique number).
    pub req_counter: u64,
    /// `%lc` frontend log counter (lines the frontend logged before this one).
    pub log_counter: u64,
    /// `%sslc %sslv` (None on a clear connection).
    pub ssl_cipher: Option<&'a str>,
    pub ssl_version: Option<&'a str>,
    /// Values of the `%[expr]` expressions, in the order of
    /// [`LogFormat::sample_exprs`]; a missing entry or None prints `-`.
    pub samples: &'a [Option<&'a str>],
    /// Rendering a header value, a reply body, a redirect target (not a
    /// log line): missing and empty samples write nothing.
    pub bare_samples: bool,
}

impl LogFormat {
    /// Parses `fmt` (the raw string as written after `log-format`, quotes
    /// and escapes already handled by the config tokenizer), as in `mode
    /// http`, where every variable is allowed.
    ///
    /// Returns the tokens, or HAProxy 2.6's message without its final `.`
    /// (HAProxy prints `Parsing [<file>:<line>]: failed to parse log-format
    /// : <msg>.`).
    pub fn parse(fmt: &str) -> Result<LogFormat, String> {
        Self::parse_for_mode(fmt, true)
    }

    /// As [`LogFormat::parse`], for a proxy in `mode http` (`http`) or not:
    /// outside HTTP, the first HTTP-only variable is refused with
    /// "format variable 'r' is reserved for HTTP mode".
    pub fn parse_for_mode(fmt: &str, http: bool) -> Result<LogFormat, String> {
        Parser {
            fmt,
            pos: 0,
            http,
            defaults: LfFlags::default(),
            text: String::new(),
            out: LogFormat::default(),
        }
        .run()
    }

    /// The parsed tokens.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The text of each `%[expr]`, in order of appearance: the caller
    /// evaluates them and passes the results in [`LogVars::samples`].
    pub fn sample_exprs(&self) -> &[String] {
        &self.samples
    }

    /// Renders one line into `out` (cleared first) from `v`. Never fails:
    /// a value HAProxy cannot print (an AF_UNIX address with `X`) ends the
    /// line where it stands, as in HAProxy. No newline is added.
    pub fn render(&self, v: &LogVars<'_>, out: &mut String) {
        out.clear();
        // true at the start of the line: a leading separator is dropped.
        let mut last_sep = true;
        for tok in &self.tokens {
            match tok {
                Token::Text(t) => {
                    out.push_str(t);
                    last_sep = false;
                }
                Token::Sep => {
                    if !last_sep {
                        out.push(' ');
                        last_sep = true;
                    }
                }
                Token::Sample(i, fl) => {
                    let val = v.samples.get(*i).copied().flatten();
                    // Outside log lines a missing or empty sample writes
                    // nothing, as 2.6 does (quotes or not).
                    // In a log line an empty sample is "-" like a missing
                    // one (2.6's lf_text_len() writes nothing only when
                    // there is something to write).
                    if !(v.bare_samples && val.is_none_or(str::is_empty)) {
                        push_text(out, val.filter(|s| !s.is_empty()), *fl);
                    }
                    last_sep = false;
                }
                Token::Var(var, fl) => match render_var(*var, *fl, v, out) {
                    ControlFlow::Break(()) => return,
                    ControlFlow::Continue(wrote) => last_sep &= !wrote,
                },
            }
        }
    }
}

/// The parser's cursor over one format string.
struct Parser<'f> {
    fmt: &'f str,
    pos: usize,
    http: bool,
    /// Flags set by the last `%o`.
    defaults: LfFlags,
    /// Text not yet pushed as a token.
    text: String,
    out: LogFormat,
}

impl Parser<'_> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.fmt.as_bytes().get(at).copied()
    }

    fn rest(&self, from: usize) -> &str {
        self.fmt.get(from..).unwrap_or("")
    }

    fn slice(&self, from: usize, to: usize) -> &str {
        self.fmt.get(from..to).unwrap_or("")
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            let t = std::mem::take(&mut self.text);
            self.out.tokens.push(Token::Text(t));
        }
    }

    fn run(mut self) -> Result<LogFormat, String> {
        while let Some(c) = self.byte(self.pos) {
            match c {
                b' ' => {
                    self.flush_text();
                    if self.out.tokens.last() != Some(&Token::Sep) {
                        self.out.tokens.push(Token::Sep);
                    }
                    self.pos += 1;
                }
                b'%' => self.percent()?,
                _ => {
                    // Copy up to the next space or '%' (both ASCII, so the
                    // slice ends on a character boundary).
                    let start = self.pos;
                    while let Some(c) = self.byte(self.pos) {
                        if c == b' ' || c == b'%' {
                            break;
                        }
                        self.pos += 1;
                    }
                    let t = self.slice(start, self.pos).to_string();
                    self.text.push_str(&t);
                }
            }
        }
        self.flush_text();
        Ok(self.out)
    }

    /// At a '%': a literal '%', a variable, flags then a variable, or a
    /// sample expression.
    fn percent(&mut self) -> Result<(), String> {
        let pct = self.pos;
        let at = pct + 1;
        match self.byte(at) {
            None => Err(format!("truncated line after '{}'", self.rest(pct))),
            Some(b'%') => {
                self.text.push('%');
                self.pos = at + 1;
                Ok(())
            }
            Some(b'{') => {
                let args_start = at + 1;
                let Some(len) = self.rest(args_start).find('}') else {
                    return Err(format!("truncated line after '{}'", self.rest(args_start)));
                };
                let args_end = args_start + len;
                let mut fl = self.defaults;
                apply_flag_args(self.slice(args_start, args_end), &mut fl);
                self.pos = args_end + 1;
                match self.byte(self.pos) {
                    Some(b'[') => self.sample(fl),
                    Some(c) if c.is_ascii_alphanumeric() => self.var(fl),
                    _ => Err(format!(
                        "parse argument modifier without variable name near '{}'",
                        self.slice(pct, self.pos)
                    )),
                }
            }
            Some(b'[') => {
                self.pos = at;
                self.sample(self.defaults)
            }
            Some(c) if c.is_ascii_alphabetic() => {
                self.pos = at;
                self.var(self.defaults)
            }
            Some(c) if c.is_ascii_digit() || c.is_ascii_whitespace() || c == 0x0b => {
                let near = self.rest(at).chars().next().unwrap_or(' ');
                Err(format!(
                    "unexpected variable name near '{near}' at position {at} line : '{}'. \
                     Maybe you want to write a single '%', use the syntax '%%'",
                    self.fmt
                ))
            }
            Some(_) => {
                // HAProxy drops the '%' and keeps the character as text.
                self.pos = at;
                Ok(())
            }
        }
    }

    /// At the first character of a variable name.
    fn var(&mut self, fl: LfFlags) -> Result<(), String> {
        let start = self.pos;
        while self
            .byte(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            self.pos += 1;
        }
        let name = self.slice(start, self.pos);
        let Some(&(_, var, http_only)) = VARS.iter().find(|(n, _, _)| *n == name) else {
            return Err(format!(
                "no such format variable '{name}'. If you wanted to emit the '%' \
                 character verbatim, you need to use '%%'"
            ));
        };
        if http_only && !self.http {
            return Err(format!(
                "format variable '{name}' is reserved for HTTP mode"
            ));
        }
        if var == Var::o {
            self.defaults = fl;
        }
        self.flush_text();
        self.out.tokens.push(Token::Var(var, fl));
        Ok(())
    }

    /// At the '[' of a sample expression: checks the bracket syntax
    /// (`fetch[(args)][,conv[(args)]]...]`) and records the expression.
    fn sample(&mut self, fl: LfFlags) -> Result<(), String> {
        let start = self.pos + 1;
        let whole = self.rest(start).to_string();
        let mut j = start;
        let mut first = true;
        loop {
            let name_start = j;
            while self.byte(j).is_some_and(|c| {
                !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' | b',' | b']')
            }) {
                j += 1;
            }
            let name = self.slice(name_start, j).to_string();
            if name.is_empty() {
                if first {
                    return Err(format!(
                        "failed to parse sample expression <{whole}> : missing fetch method"
                    ));
                }
                if self.byte(j) == Some(b',') {
                    // ",," : HAProxy skips an empty converter followed by another.
                    j += 1;
                    continue;
                }
                return Err(format!(
                    "failed to parse sample expression <{whole}> : unknown converter ''"
                ));
            }
            if self.byte(j) == Some(b'(') {
                match self.skip_args(j + 1) {
                    Some(end) => j = end,
                    None if first => {
                        return Err(format!(
                            "failed to parse sample expression <{whole}> : fetch method '{name}' : expected ')'"
                        ));
                    }
                    None => {
                        return Err(format!(
                            "failed to parse sample expression <{whole}> : converter '{name}' : expected ')'"
                        ));
                    }
                }
            }
            first = false;
            if self.byte(j) == Some(b',') {
                j += 1;
                continue;
            }
            break;
        }
        let expr = self.slice(start, j).to_string();
        match self.byte(j) {
            None => Err(format!("missing ']' after '{expr}'")),
            Some(b']') => {
                self.flush_text();
                self.out
                    .tokens
                    .push(Token::Sample(self.out.samples.len(), fl));
                self.out.samples.push(expr);
                self.pos = j + 1;
                Ok(())
            }
            Some(_) => {
                let found = self.rest(j).chars().next().unwrap_or(' ');
                Err(format!("expected ']' after '{expr}', but found '{found}'"))
            }
        }
    }

    /// From just after a '(': the position after the closing ')', skipping
    /// quoted strings and backslash escapes; None at the end of the string.
    fn skip_args(&self, mut j: usize) -> Option<usize> {
        let mut quote: Option<u8> = None;
        loop {
            let c = self.byte(j)?;
            j += 1;
            match (quote, c) {
                (_, b'\\') => j += 1,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, b'\'' | b'"') => quote = Some(c),
                (None, b')') => return Some(j),
                (None, _) => {}
            }
        }
    }
}

/// Applies `%{...}` arguments to `fl`: per comma-separated item, the last
/// `+`/`-` gives the sign and the rest must name a flag exactly.
fn apply_flag_args(args: &str, fl: &mut LfFlags) {
    for item in args.split(',') {
        let Some(sign) = item.rfind(['+', '-']) else {
            continue;
        };
        let on = item.as_bytes().get(sign) == Some(&b'+');
        let flag = match item.get(sign + 1..) {
            Some("Q") => LfFlags::QUOTE,
            Some("X") => LfFlags::HEX,
            Some("E") => LfFlags::ESC,
            Some("M") => LfFlags::MANDATORY,
            _ => continue,
        };
        fl.set(flag, on);
    }
}

#[path = "format_render.rs"]
mod render;
use render::{push_text, render_var};

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
