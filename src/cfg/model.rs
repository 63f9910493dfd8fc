//! The typed configuration produced by the parser and consumed at start-up.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub use super::http_model::*;
use super::units::BindAddr;
use std::net::IpAddr;
use std::path::PathBuf;

/// Proxy mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Tcp,
    Http,
}

/// Load-balancing algorithm (configuration.txt 4.2, balance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
}

/// Timeouts in milliseconds; 0 means "not set".
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeouts {
    pub client: u32,
    pub server: u32,
    pub connect: u32,
    pub queue: u32,
    pub tunnel: u32,
    pub client_fin: u32,
    pub server_fin: u32,
    pub check: u32,
    /// `timeout http-request`: the whole request head must arrive within it.
    pub http_request: u32,
    /// `timeout http-keep-alive`: idle time allowed between two requests.
    pub http_keep_alive: u32,
    /// `timeout tarpit`: how long `http-request tarpit` holds a request
    /// (0: `timeout connect`).
    pub tarpit: u32,
}

/// Proxy options (`option ...`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProxyOpts {
    pub splice_auto: bool,
    pub splice_request: bool,
    pub splice_response: bool,
    pub redispatch: bool,
    pub tcplog: bool,
    pub dontlognull: bool,
    /// `option log-separate-errors`: errors are logged at `err`, not `info`.
    pub log_separate_errors: bool,
    pub logasap: bool,
    pub tcpka: bool,
    pub clitcpka: bool,
    pub srvtcpka: bool,
    pub nolinger: bool,
}

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
    /// A UNIX datagram socket (e.g. /dev/log).
    Unix(PathBuf),
    /// A UDP syslog server.
    Udp(std::net::SocketAddr),
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Rfc3164,
    Raw,
    Short,
}

/// One `log` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCfg {
    pub target: LogTarget,
    pub format: LogFormat,
    /// Syslog facility number (local0 = 16).
    pub facility: u8,
    /// Max level (0 emerg .. 7 debug).
    pub level: u8,
    pub maxlen: usize,
}

/// A `bind` line.
#[derive(Debug, Clone)]
pub struct BindCfg {
    pub addrs: Vec<BindAddr>,
    pub name: Option<String>,
    pub maxconn: u32,
    pub backlog: Option<i32>,
    pub accept_proxy: bool,
    pub v6only: bool,
    /// `interface <name>`: SO_BINDTODEVICE.
    pub interface: Option<String>,
    /// `defer-accept`: TCP_DEFER_ACCEPT (wake on first data).
    pub defer_accept: bool,
    /// `tfo`: TCP Fast Open on the listener.
    pub tfo: bool,
    /// `id <n>`: the listener's numeric id (names it in error logs).
    pub id: Option<u32>,
    /// TLS options (`ssl`, `crt`...).
    pub ssl: crate::ssl::opts::BindSsl,
    /// Index of its built TLS state in `Config::tls_binds`.
    pub tls_id: Option<usize>,
    pub file: String,
    pub line: usize,
    /// The original address text, for messages.
    pub text: String,
}

/// A `server` line (after `default-server` merge).
#[derive(Debug, Clone)]
pub struct ServerCfg {
    pub name: String,
    pub addr: IpAddr,
    pub port: Option<u16>,
    pub weight: u32,
    pub maxconn: u32,
    pub maxqueue: u32,
    pub backup: bool,
    pub disabled: bool,
    pub check: bool,
    pub inter: u32,
    /// `fastinter` / `downinter` in ms (0: use `inter`).
    pub fastinter: u32,
    pub downinter: u32,
    pub rise: u32,
    pub fall: u32,
    /// `port`: the port health checks connect to (traffic keeps the address's).
    pub check_port: Option<u16>,
    /// The PROXY header to send (`send-proxy`, `send-proxy-v2`,
    /// `send-proxy-v2-ssl[-cn]`, `proxy-v2-options`; HAProxy's `pp_opts`).
    pub pp_opts: crate::conn::proxy_send::PpOpts,
    /// `check-send-proxy`: checks send the PROXY header even with `port`.
    pub check_send_proxy: bool,
    /// `pool-max-conn`: most idle connections kept for reuse (-1: no limit).
    pub pool_max_conn: i32,
    /// `pool-purge-delay` in ms: how often idle connections are purged.
    pub pool_purge_delay: u32,
    pub id: Option<u32>,
    pub line: usize,
    /// TLS options (`ssl`, `verify`, `sni`...).
    pub ssl: crate::ssl::opts::ServerSsl,
    /// The built TLS context (configuration check).
    pub tls: Option<std::rc::Rc<crate::ssl::server::SrvTls>>,
    /// `sni <expr>` compiled.
    pub sni_expr: Option<crate::rules::expr::SampleExpr>,
}

impl ServerCfg {
    /// A server named `name` at `addr`:`port` with the settings `d` (its
    /// `default-server` merged with the options on its own line).
    pub fn new(
        name: String,
        addr: IpAddr,
        port: Option<u16>,
        d: &DefaultServer,
        id: Option<u32>,
        line: usize,
    ) -> ServerCfg {
        ServerCfg {
            name,
            addr,
            port,
            weight: d.weight,
            maxconn: d.maxconn,
            maxqueue: d.maxqueue,
            backup: d.backup,
            disabled: d.disabled,
            check: d.check,
            inter: d.inter,
            fastinter: d.fastinter,
            downinter: d.downinter,
            rise: d.rise,
            fall: d.fall,
            check_port: d.check_port,
            pp_opts: d.pp_opts,
            check_send_proxy: d.check_send_proxy,
            pool_max_conn: d.pool_max_conn,
            pool_purge_delay: d.pool_purge_delay,
            id,
            line,
            ssl: d.ssl.clone(),
            tls: None,
            sni_expr: None,
        }
    }
}

/// The `default-server` settings.
#[derive(Debug, Clone)]
pub struct DefaultServer {
    pub weight: u32,
    pub maxconn: u32,
    pub maxqueue: u32,
    pub check: bool,
    pub inter: u32,
    pub fastinter: u32,
    pub downinter: u32,
    pub rise: u32,
    pub fall: u32,
    pub pp_opts: crate::conn::proxy_send::PpOpts,
    pub check_send_proxy: bool,
    pub backup: bool,
    pub disabled: bool,
    pub check_port: Option<u16>,
    pub pool_max_conn: i32,
    pub pool_purge_delay: u32,
    pub ssl: crate::ssl::opts::ServerSsl,
}

impl Default for DefaultServer {
    fn default() -> Self {
        DefaultServer {
            weight: 1,
            maxconn: 0,
            maxqueue: 0,
            check: false,
            inter: 2000,
            fastinter: 0,
            downinter: 0,
            rise: 2,
            fall: 3,
            pp_opts: Default::default(),
            check_send_proxy: false,
            backup: false,
            disabled: false,
            check_port: None,
            pool_max_conn: -1,
            pool_purge_delay: 5000,
            ssl: Default::default(),
        }
    }
}

/// Which roles a proxy section has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cap {
    pub fe: bool,
    pub be: bool,
}

/// A frontend, backend, listen or defaults section.
#[derive(Debug, Clone, Default)]
pub struct ProxyCfg {
    pub name: String,
    pub kind: &'static str,
    pub cap: Cap,
    pub mode: Mode,
    pub file: String,
    pub line: usize,
    pub binds: Vec<BindCfg>,
    pub maxconn: u32,
    pub backlog: Option<i32>,
    pub default_backend: Option<(String, usize)>,
    pub use_backends: Vec<UseBackend>,
    pub use_servers: Vec<UseServer>,
    /// `force-persist` (true) and `ignore-persist` (false) rules, in order.
    pub persist_rules: Vec<(bool, crate::rules::acl::Cond)>,
    pub servers: Vec<ServerCfg>,
    pub default_server: DefaultServer,
    pub balance: Balance,
    pub hash_type_consistent: bool,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub opts: ProxyOpts,
    pub logs: Vec<LogCfg>,
    pub log_global: bool,
    pub disabled: bool,
    pub id: Option<u32>,
    pub description: Option<String>,
    pub fullconn: u32,
    /// The HTTP settings (`mode http`); inherited from `defaults` like the rest.
    pub http: HttpCfg,
    /// `tcp-request` / `tcp-response` rules.
    pub tcp: super::tcp_rules::TcpRules,
}

/// Access level of a stats socket (management.txt 9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum CliLevel {
    User,
    #[default]
    Operator,
    Admin,
}

/// A `stats socket` line.
#[derive(Debug, Clone)]
pub struct StatsSocketCfg {
    pub addr: BindAddr,
    /// `expose-fd listeners`.
    pub expose_fd: bool,
    pub mode: Option<u32>,
    pub level: CliLevel,
    pub line: usize,
    pub file: String,
}

/// The `global` section.
#[derive(Debug, Clone)]
pub struct GlobalCfg {
    /// `expose-experimental-directives`.
    pub experimental: bool,
    pub maxconn: u32,
    pub daemon: bool,
    pub pidfile: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub chroot: Option<String>,
    /// `nbthread` (0: not set). haproxy-rs runs one thread; the value only
    /// enters the fd budget, as in 2.6.
    pub nbthread: u32,
    pub maxpipes: u32,
    pub nosplice: bool,
    pub tune_bufsize: usize,
    pub tune_maxaccept: i32,
    /// `tune.maxrewrite`: room kept free in a buffer under analysis (None:
    /// HAProxy's default, 1024).
    pub tune_maxrewrite: Option<usize>,
    pub tune_pipesize: usize,
    pub tune_rcvbuf_client: usize,
    pub tune_rcvbuf_server: usize,
    pub tune_sndbuf_client: usize,
    pub tune_sndbuf_server: usize,
    pub hard_stop_after: u32,
    pub grace: u32,
    pub logs: Vec<LogCfg>,
    pub quiet: bool,
    pub zero_warning: bool,
    pub node: Option<String>,
    pub noreuseport: bool,
    pub log_send_hostname: Option<String>,
    pub log_tag: Option<String>,
    pub stats_sockets: Vec<StatsSocketCfg>,
    /// `ulimit-n`: the file-descriptor limit to set (0 = derived from maxconn).
    pub ulimit_n: u64,
    /// `strict-limits` (default) / `no strict-limits`: refuse to start when
    /// the fd limit cannot be set, instead of a warning.
    pub strict_limits: bool,
    /// `pp2-never-send-local`: v2 health checks send PROXY, not LOCAL.
    pub pp2_never_send_local: bool,
    /// `fd-hard-limit`: the most fds the derived maxconn may count on (0:
    /// the system's hard limit).
    pub fd_hard_limit: u64,
    /// `stats maxconn` (default 10): counted in the fd budget when a stats
    /// socket is declared.
    pub stats_maxconn: u32,
    /// `stats timeout` (ms), idle timeout of CLI sessions.
    pub stats_timeout: u32,
    /// `tune.http.maxhdr`: most header lines in one HTTP message (1..=32767).
    pub tune_http_maxhdr: usize,
    /// TLS defaults and tuning.
    pub ssl: crate::ssl::opts::GlobalSsl,
    /// `master-worker`.
    pub master_worker: bool,
    /// `master-worker no-exit-on-failure`.
    pub mworker_no_exit_on_failure: bool,
    /// `mworker-max-reloads`.
    pub mworker_max_reloads: Option<u32>,
}

impl Default for GlobalCfg {
    fn default() -> Self {
        GlobalCfg {
            experimental: false,
            maxconn: 0,
            daemon: false,
            pidfile: None,
            uid: None,
            gid: None,
            chroot: None,
            nbthread: 0,
            maxpipes: 0,
            nosplice: false,
            tune_bufsize: 16384,
            tune_maxaccept: 64,
            tune_maxrewrite: None,
            tune_pipesize: 0,
            tune_rcvbuf_client: 0,
            tune_rcvbuf_server: 0,
            tune_sndbuf_client: 0,
            tune_sndbuf_server: 0,
            hard_stop_after: 0,
            grace: 0,
            logs: Vec::new(),
            quiet: false,
            zero_warning: false,
            node: None,
            noreuseport: false,
            log_send_hostname: None,
            log_tag: None,
            stats_sockets: Vec::new(),
            ulimit_n: 0,
            strict_limits: true,
            pp2_never_send_local: false,
            fd_hard_limit: 0,
            stats_maxconn: 10,
            stats_timeout: 10_000,
            tune_http_maxhdr: 101,
            ssl: Default::default(),
            master_worker: false,
            mworker_no_exit_on_failure: false,
            mworker_max_reloads: None,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub global: GlobalCfg,
    /// Frontends, backends and listens in file order.
    pub proxies: Vec<ProxyCfg>,
    /// `http-errors <name>` sections in file order, each with its
    /// `errorfile <code> <file>` lines (configuration.txt 3.8).
    pub http_errors: Vec<(String, Vec<(u16, PathBuf)>)>,
    /// What the rules refer to: ACLs, pattern files and maps, variables.
    pub rules: crate::rules::store::RuleStore,
    /// The TLS state of the bind lines with `ssl` (see `BindCfg::tls_id`).
    pub tls_binds: Vec<crate::ssl::bind::BindTls>,
    /// The TLS state of every server line with TLS, shared with
    /// `ServerCfg::tls` (a commit on the stats socket replaces it in place).
    pub tls_servers: Vec<std::rc::Rc<crate::ssl::server::SrvTls>>,
    /// `program` sections, run by the master.
    pub programs: Vec<ProgramCfg>,
}

/// A `program` section (configuration.txt 3.7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramCfg {
    pub name: String,
    /// `command <cmd> [args]`.
    pub command: Vec<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    /// `option start-on-reload`.
    pub start_on_reload: bool,
    pub file: String,
    pub line: usize,
}

impl Config {
    /// Index of the proxy named `name` that can act as a backend.
    pub fn find_backend(&self, name: &str) -> Option<usize> {
        self.proxies.iter().position(|p| p.cap.be && p.name == name)
    }
}

/// `use_backend <name> [if|unless <cond>]`.
#[derive(Debug, Clone)]
pub struct UseBackend {
    pub name: String,
    pub line: usize,
    pub cond: Option<crate::rules::acl::Cond>,
    /// The name as a log-format (it has `%`): evaluated per request.
    pub dynamic: Option<crate::rules::lf::Lf>,
}

/// `use-server <name> if|unless <cond>`.
#[derive(Debug, Clone)]
pub struct UseServer {
    pub name: String,
    pub cond: crate::rules::acl::Cond,
}
