//! TLS settings as the configuration gives them (plain data; `bind.rs` and
//! `server.rs` turn them into OpenSSL contexts).

/// Protocol versions in HAProxy's order (`ssl-min-ver`, `no-tlsv1x`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVer {
    Ssl3 = 0,
    Tls10 = 1,
    Tls11 = 2,
    Tls12 = 3,
    Tls13 = 4,
}

impl TlsVer {
    pub const ALL: [TlsVer; 5] = [
        TlsVer::Ssl3,
        TlsVer::Tls10,
        TlsVer::Tls11,
        TlsVer::Tls12,
        TlsVer::Tls13,
    ];

    /// `SSLv3`, `TLSv1.0`... as `ssl-min-ver` takes them.
    pub fn parse(s: &str) -> Option<TlsVer> {
        Some(match s {
            "SSLv3" => TlsVer::Ssl3,
            "TLSv1.0" => TlsVer::Tls10,
            "TLSv1.1" => TlsVer::Tls11,
            "TLSv1.2" => TlsVer::Tls12,
            "TLSv1.3" => TlsVer::Tls13,
            _ => return None,
        })
    }

    /// The version bit of `no-sslv3`, `no-tlsv10`...
    pub fn from_no_kw(kw: &str) -> Option<TlsVer> {
        Some(match kw {
            "sslv3" => TlsVer::Ssl3,
            "tlsv10" => TlsVer::Tls10,
            "tlsv11" => TlsVer::Tls11,
            "tlsv12" => TlsVer::Tls12,
            "tlsv13" => TlsVer::Tls13,
            _ => return None,
        })
    }

    pub fn openssl(self) -> openssl::ssl::SslVersion {
        use openssl::ssl::SslVersion as V;
        match self {
            TlsVer::Ssl3 => V::SSL3,
            TlsVer::Tls10 => V::TLS1,
            TlsVer::Tls11 => V::TLS1_1,
            TlsVer::Tls12 => V::TLS1_2,
            TlsVer::Tls13 => V::TLS1_3,
        }
    }
}

/// `verify none|optional|required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    #[default]
    Unset,
    None,
    Optional,
    Required,
}

/// Protocol version limits: `ssl-min-ver`, `ssl-max-ver`, `no-*`, `force-*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Versions {
    pub min: Option<TlsVer>,
    pub max: Option<TlsVer>,
    /// Bit per version (`no-tlsv10`...).
    pub no: u8,
}

impl Versions {
    /// The inclusive range allowed, 2.6's default minimum being TLSv1.2.
    /// None when the settings leave no version.
    pub fn range(&self) -> Option<(TlsVer, TlsVer)> {
        let lo = self.min.unwrap_or(TlsVer::Tls12);
        let hi = self.max.unwrap_or(TlsVer::Tls13);
        let ok: Vec<TlsVer> = TlsVer::ALL
            .into_iter()
            .filter(|v| *v >= lo && *v <= hi && self.no & (1 << *v as u8) == 0)
            .collect();
        Some((*ok.first()?, *ok.last()?))
    }

    /// Later settings (a bind line's) over earlier ones (defaults).
    pub fn merged_over(&self, base: &Versions) -> Versions {
        Versions {
            min: self.min.or(base.min),
            max: self.max.or(base.max),
            no: self.no | base.no,
        }
    }
}

/// The TLS options of a `bind` line (or of one `crt-list` line, which
/// overrides some of them).
#[derive(Debug, Clone, Default)]
pub struct BindSsl {
    /// `ssl`: TLS on this listener.
    pub enabled: bool,
    /// `crt` paths, in order (the first is the default certificate).
    pub crts: Vec<String>,
    /// `crt-list` paths.
    pub crt_lists: Vec<String>,
    /// `alpn`, in wire format (length-prefixed names).
    pub alpn: Option<Vec<u8>>,
    pub versions: Versions,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    pub ecdhe: Option<String>,
    pub sigalgs: Option<String>,
    pub client_sigalgs: Option<String>,
    pub ca_file: Option<String>,
    pub ca_verify_file: Option<String>,
    pub crl_file: Option<String>,
    pub verify: Verify,
    pub strict_sni: bool,
    pub no_tls_tickets: bool,
    pub prefer_client_ciphers: bool,
    pub no_ca_names: bool,
    pub allow_0rtt: bool,
    pub tls_ticket_keys: Option<String>,
    pub generate_certificates: bool,
    pub ca_sign_file: Option<String>,
    pub ca_sign_pass: Option<String>,
    /// `ca-ignore-err` / `crt-ignore-err`: `all` or errno list.
    pub ca_ignore_err: Option<String>,
    pub crt_ignore_err: Option<String>,
    /// The listener is `mode http`, where HTTP/2 is not spoken yet: `h2` is
    /// left out of the ALPN offer, so clients fall back to HTTP/1.1.
    pub no_h2: bool,
}

/// The TLS options of a `server` line.
#[derive(Debug, Clone, Default)]
pub struct ServerSsl {
    /// `ssl`: TLS to this server.
    pub enabled: bool,
    pub verify: Verify,
    pub verifyhost: Option<String>,
    pub ca_file: Option<String>,
    pub crl_file: Option<String>,
    /// `crt`: the client certificate sent to the server.
    pub crt: Option<String>,
    /// `sni <expr>`: the server name sent, as a sample expression.
    pub sni: Option<String>,
    pub alpn: Option<Vec<u8>>,
    pub versions: Versions,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    pub sigalgs: Option<String>,
    pub no_ssl_reuse: bool,
    pub no_tls_tickets: bool,
    /// `check-ssl`: health checks over TLS.
    pub check_ssl: bool,
    pub check_sni: Option<String>,
    pub check_alpn: Option<Vec<u8>>,
}

/// The `global` TLS settings.
#[derive(Debug, Clone, Default)]
pub struct GlobalSsl {
    pub crt_base: Option<String>,
    pub ca_base: Option<String>,
    pub bind_ciphers: Option<String>,
    pub bind_ciphersuites: Option<String>,
    pub bind_curves: Option<String>,
    pub bind_sigalgs: Option<String>,
    pub bind_client_sigalgs: Option<String>,
    pub bind_versions: Versions,
    pub bind_no_tls_tickets: bool,
    pub bind_prefer_client_ciphers: bool,
    pub server_ciphers: Option<String>,
    pub server_ciphersuites: Option<String>,
    pub server_curves: Option<String>,
    pub server_sigalgs: Option<String>,
    pub server_versions: Versions,
    pub server_no_tls_tickets: bool,
    /// `ssl-server-verify none`: servers without `verify` do not verify.
    pub server_verify_none: bool,
    pub dh_param_file: Option<String>,
    /// `tune.ssl.default-dh-param` (bits; 2.6's default 2048).
    pub default_dh_param: u32,
    /// `tune.ssl.cachesize` (sessions; 2.6's default 20000).
    pub cachesize: Option<u32>,
    /// `tune.ssl.lifetime` in seconds (2.6's default 300).
    pub lifetime: Option<u32>,
    /// `tune.ssl.maxrecord` (0: no limit).
    pub maxrecord: usize,
    pub issuers_chain_path: Option<String>,
}

impl GlobalSsl {
    /// `path` under `base` unless it is absolute (`crt-base`, `ca-base`).
    pub fn based(base: &Option<String>, path: &str) -> String {
        match base {
            Some(b) if !path.starts_with('/') => format!("{}/{path}", b.trim_end_matches('/')),
            _ => path.to_string(),
        }
    }
}

/// `alpn h2,http/1.1` in wire format; None for an empty list. Empty
/// names are skipped, as 2.6 accepts them.
pub fn alpn_wire(list: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for p in list.split(',') {
        if p.is_empty() {
            continue;
        }
        if p.len() > 255 {
            return None;
        }
        out.push(p.len() as u8);
        out.extend_from_slice(p.as_bytes());
    }
    (!out.is_empty()).then_some(out)
}

/// A wire-format ALPN list without `h2`; None when nothing is left.
pub fn alpn_without_h2(wire: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = wire;
    while let Some((&n, tail)) = rest.split_first() {
        let (name, more) = tail.split_at_checked(usize::from(n))?;
        if name != b"h2" {
            out.push(n);
            out.extend_from_slice(name);
        }
        rest = more;
    }
    (!out.is_empty()).then_some(out)
}

/// The names of a wire-format ALPN list, comma-separated (for messages).
pub fn alpn_text(wire: &[u8]) -> String {
    let mut names = Vec::new();
    let mut rest = wire;
    while let Some((&n, tail)) = rest.split_first() {
        let n = usize::from(n).min(tail.len());
        let (name, more) = tail.split_at(n);
        names.push(String::from_utf8_lossy(name).into_owned());
        rest = more;
    }
    names.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ranges_default_to_tls12_and_honour_no_bits() {
        let v = Versions::default();
        assert_eq!(v.range(), Some((TlsVer::Tls12, TlsVer::Tls13)));
        let v = Versions {
            min: Some(TlsVer::Tls10),
            max: None,
            no: 1 << TlsVer::Tls13 as u8,
        };
        assert_eq!(v.range(), Some((TlsVer::Tls10, TlsVer::Tls12)));
        let v = Versions {
            min: Some(TlsVer::Tls13),
            max: Some(TlsVer::Tls12),
            no: 0,
        };
        assert_eq!(v.range(), None);
    }

    #[test]
    fn alpn_lists_round_trip_in_wire_format() {
        let w = alpn_wire("h2,http/1.1").expect("valid");
        assert_eq!(w, b"\x02h2\x08http/1.1");
        assert_eq!(alpn_text(&w), "h2,http/1.1");
        assert_eq!(alpn_wire(""), None);
        assert_eq!(alpn_wire("h2,,x").as_deref(), Some(&b"\x02h2\x01x"[..]));
        assert_eq!(alpn_without_h2(&w).as_deref(), Some(&b"\x08http/1.1"[..]));
        assert_eq!(alpn_without_h2(b"\x02h2"), None);
    }

    #[test]
    fn relative_paths_go_under_their_base() {
        let b = Some("/etc/ssl/".to_string());
        assert_eq!(GlobalSsl::based(&b, "a.pem"), "/etc/ssl/a.pem");
        assert_eq!(GlobalSsl::based(&b, "/x/a.pem"), "/x/a.pem");
        assert_eq!(GlobalSsl::based(&None, "a.pem"), "a.pem");
    }
}
