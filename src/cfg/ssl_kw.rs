//! The TLS keywords of `bind`, `server`/`default-server`, `crt-list`
//! lines and `global` (configuration.txt 5.1, 5.2, 3.1). Each parser
//! returns None for a word that is not one of its keywords, so that the
//! line parsers try it first and go on with their own.

use crate::ssl::opts::{BindSsl, GlobalSsl, ServerSsl, TlsVer, Verify, Versions, alpn_wire};

/// A keyword's value, or HAProxy's complaint that it is missing.
fn need(kw: &str, v: Option<String>, what: &str) -> Result<String, String> {
    v.ok_or_else(|| format!("'{kw}' : missing {what}."))
}

fn verify_arg(kw: &str, v: Option<String>) -> Result<Verify, String> {
    match v.as_deref() {
        Some("none") => Ok(Verify::None),
        Some("optional") => Ok(Verify::Optional),
        Some("required") => Ok(Verify::Required),
        Some(x) => Err(format!(
            "'{kw}' : unknown verify method '{x}', only 'none', 'optional', and 'required' are supported"
        )),
        None => Err(format!("'{kw}' : missing verify method.")),
    }
}

/// `ssl-min-ver`, `ssl-max-ver`, `no-*`, `force-*` on `v`.
fn versions_kw(
    v: &mut Versions,
    kw: &str,
    next: &mut dyn FnMut() -> Option<String>,
) -> Option<Result<(), String>> {
    if let Some(x) = kw.strip_prefix("no-").and_then(TlsVer::from_no_kw) {
        v.no |= 1 << x as u8;
        return Some(Ok(()));
    }
    if let Some(x) = kw.strip_prefix("force-").and_then(TlsVer::from_no_kw) {
        v.min = Some(x);
        v.max = Some(x);
        return Some(Ok(()));
    }
    if kw == "ssl-min-ver" || kw == "ssl-max-ver" {
        let r = match next() {
            Some(a) => match TlsVer::parse(&a) {
                Some(x) if kw == "ssl-min-ver" => {
                    v.min = Some(x);
                    Ok(())
                }
                Some(x) => {
                    v.max = Some(x);
                    Ok(())
                }
                None => Err(format!("'{a}' : unknown ssl/tls version")),
            },
            None => Err(format!("'{kw}' : missing the version")),
        };
        return Some(r);
    }
    None
}

fn alpn_arg(kw: &str, v: Option<String>) -> Result<Vec<u8>, String> {
    v.as_deref()
        .and_then(alpn_wire)
        .ok_or_else(|| format!("'{kw}' : missing the comma-delimited ALPN protocol suite"))
}

/// The TLS keywords of a `bind` line (and of a `crt-list` line's options).
pub fn bind_kw(
    o: &mut BindSsl,
    kw: &str,
    next: &mut dyn FnMut() -> Option<String>,
) -> Option<Result<(), String>> {
    if let Some(r) = versions_kw(&mut o.versions, kw, next) {
        return Some(r);
    }
    let r = match kw {
        "ssl" => {
            o.enabled = true;
            Ok(())
        }
        "crt" => need(kw, next(), "certificate location").map(|v| o.crts.push(v)),
        "crt-list" => need(kw, next(), "certificate location").map(|v| o.crt_lists.push(v)),
        "alpn" => alpn_arg(kw, next()).map(|v| o.alpn = Some(v)),
        // OpenSSL 3 dropped NPN: 2.6 accepts the keyword and ignores it.
        "npn" => need(kw, next(), "the comma-delimited NPN protocol suite").map(|_| ()),
        "ca-file" => need(kw, next(), "CAfile path").map(|v| o.ca_file = Some(v)),
        "ca-verify-file" => {
            need(kw, next(), "CAverify file path").map(|v| o.ca_verify_file = Some(v))
        }
        "crl-file" => need(kw, next(), "CRLfile path").map(|v| o.crl_file = Some(v)),
        "verify" => verify_arg(kw, next()).map(|v| o.verify = v),
        "ciphers" => need(kw, next(), "cipher suite").map(|v| o.ciphers = Some(v)),
        "ciphersuites" => need(kw, next(), "cipher suite").map(|v| o.ciphersuites = Some(v)),
        "curves" => need(kw, next(), "curve suite").map(|v| o.curves = Some(v)),
        "ecdhe" => need(kw, next(), "named curve").map(|v| o.ecdhe = Some(v)),
        "sigalgs" => need(kw, next(), "signature algorithm list").map(|v| o.sigalgs = Some(v)),
        "client-sigalgs" => {
            need(kw, next(), "signature algorithm list").map(|v| o.client_sigalgs = Some(v))
        }
        "strict-sni" => {
            o.strict_sni = true;
            Ok(())
        }
        "no-tls-tickets" => {
            o.no_tls_tickets = true;
            Ok(())
        }
        "prefer-client-ciphers" => {
            o.prefer_client_ciphers = true;
            Ok(())
        }
        "no-ca-names" => {
            o.no_ca_names = true;
            Ok(())
        }
        "allow-0rtt" => {
            o.allow_0rtt = true;
            Ok(())
        }
        "generate-certificates" => {
            o.generate_certificates = true;
            Ok(())
        }
        "tls-ticket-keys" => {
            need(kw, next(), "TLS ticket keys file path").map(|v| o.tls_ticket_keys = Some(v))
        }
        "ca-sign-file" => need(kw, next(), "CAfile path").map(|v| o.ca_sign_file = Some(v)),
        "ca-sign-pass" => need(kw, next(), "CAkey password").map(|v| o.ca_sign_pass = Some(v)),
        "ca-ignore-err" => need(kw, next(), "error IDs list").map(|v| o.ca_ignore_err = Some(v)),
        "crt-ignore-err" => need(kw, next(), "error IDs list").map(|v| o.crt_ignore_err = Some(v)),
        _ => return None,
    };
    Some(r)
}

/// The options between `[` and `]` of a `crt-list` line, over `o`.
pub fn apply_list_opts(o: &mut BindSsl, words: &[String]) -> Result<(), String> {
    const ALLOWED: &[&str] = &[
        "alpn",
        "npn",
        "ca-file",
        "crl-file",
        "ciphers",
        "ciphersuites",
        "curves",
        "ecdhe",
        "no-ca-names",
        "ssl-min-ver",
        "ssl-max-ver",
        "verify",
        "allow-0rtt",
    ];
    let mut it = words.iter().cloned();
    while let Some(w) = it.next() {
        if !ALLOWED.contains(&w.as_str()) {
            return Err(format!("unknown ssl keyword {w}"));
        }
        match bind_kw(o, &w, &mut || it.next()) {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e),
            None => return Err(format!("unknown ssl keyword {w}")),
        }
    }
    Ok(())
}

/// The TLS keywords of a `server` or `default-server` line.
pub fn server_kw(
    o: &mut ServerSsl,
    kw: &str,
    next: &mut dyn FnMut() -> Option<String>,
) -> Option<Result<(), String>> {
    if let Some(r) = versions_kw(&mut o.versions, kw, next) {
        return Some(r);
    }
    let flag = |b: &mut bool, v: bool| {
        *b = v;
        Ok(())
    };
    let r = match kw {
        "ssl" => flag(&mut o.enabled, true),
        "no-ssl" => flag(&mut o.enabled, false),
        "verify" => verify_arg(kw, next()).map(|v| o.verify = v),
        "verifyhost" => {
            need(kw, next(), "hostname to verify against").map(|v| o.verifyhost = Some(v))
        }
        "ca-file" => need(kw, next(), "CAfile path").map(|v| o.ca_file = Some(v)),
        "crl-file" => need(kw, next(), "CRLfile path").map(|v| o.crl_file = Some(v)),
        "crt" => need(kw, next(), "certificate file path").map(|v| o.crt = Some(v)),
        "sni" => need(kw, next(), "sni expression").map(|v| o.sni = Some(v)),
        "alpn" => alpn_arg(kw, next()).map(|v| o.alpn = Some(v)),
        "npn" => need(kw, next(), "the comma-delimited NPN protocol suite").map(|_| ()),
        "ciphers" => need(kw, next(), "cipher suite").map(|v| o.ciphers = Some(v)),
        "ciphersuites" => need(kw, next(), "cipher suite").map(|v| o.ciphersuites = Some(v)),
        "curves" => need(kw, next(), "curve suite").map(|v| o.curves = Some(v)),
        "sigalgs" => need(kw, next(), "signature algorithm list").map(|v| o.sigalgs = Some(v)),
        "no-ssl-reuse" => flag(&mut o.no_ssl_reuse, true),
        "ssl-reuse" => flag(&mut o.no_ssl_reuse, false),
        "no-tls-tickets" => flag(&mut o.no_tls_tickets, true),
        "tls-tickets" => flag(&mut o.no_tls_tickets, false),
        "check-ssl" => flag(&mut o.check_ssl, true),
        "no-check-ssl" => flag(&mut o.check_ssl, false),
        "check-sni" => need(kw, next(), "SNI").map(|v| o.check_sni = Some(v)),
        "check-alpn" => alpn_arg(kw, next()).map(|v| o.check_alpn = Some(v)),
        _ => return None,
    };
    Some(r)
}

/// `ssl-default-bind-options` / `ssl-default-server-options` words.
fn default_options(
    words: &[String],
    v: &mut Versions,
    no_tickets: &mut bool,
    prefer_client: Option<&mut bool>,
) -> Result<(), String> {
    let mut it = words.iter().cloned();
    let mut prefer_client = prefer_client;
    while let Some(w) = it.next() {
        if let Some(r) = versions_kw(v, &w, &mut || it.next()) {
            r?;
            continue;
        }
        match (w.as_str(), prefer_client.as_deref_mut()) {
            ("no-tls-tickets", _) => *no_tickets = true,
            ("prefer-client-ciphers", Some(p)) => *p = true,
            _ => return Err(format!("unknown option '{w}'.")),
        }
    }
    Ok(())
}

/// The TLS keywords of `global`. `w` is the whole line.
pub fn global_kw(g: &mut GlobalSsl, w: &[String]) -> Option<Result<(), String>> {
    let kw = w.first()?.as_str();
    let arg = w.get(1).cloned();
    let rest = w.get(1..).unwrap_or_default();
    let num = |a: Option<String>| -> Result<u32, String> {
        a.as_deref()
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| format!("'{kw}' expects an integer argument."))
    };
    let r = match kw {
        "crt-base" => need(kw, arg, "a directory").map(|v| g.crt_base = Some(v)),
        "ca-base" => need(kw, arg, "a directory").map(|v| g.ca_base = Some(v)),
        "ssl-default-bind-ciphers" => {
            need(kw, arg, "a cipher suite").map(|v| g.bind_ciphers = Some(v))
        }
        "ssl-default-bind-ciphersuites" => {
            need(kw, arg, "a cipher suite").map(|v| g.bind_ciphersuites = Some(v))
        }
        "ssl-default-bind-curves" => {
            need(kw, arg, "a curve suite").map(|v| g.bind_curves = Some(v))
        }
        "ssl-default-bind-sigalgs" => need(kw, arg, "a list").map(|v| g.bind_sigalgs = Some(v)),
        "ssl-default-bind-client-sigalgs" => {
            need(kw, arg, "a list").map(|v| g.bind_client_sigalgs = Some(v))
        }
        "ssl-default-server-ciphers" => {
            need(kw, arg, "a cipher suite").map(|v| g.server_ciphers = Some(v))
        }
        "ssl-default-server-ciphersuites" => {
            need(kw, arg, "a cipher suite").map(|v| g.server_ciphersuites = Some(v))
        }
        "ssl-default-server-curves" => {
            need(kw, arg, "a curve suite").map(|v| g.server_curves = Some(v))
        }
        "ssl-default-server-sigalgs" => need(kw, arg, "a list").map(|v| g.server_sigalgs = Some(v)),
        "ssl-default-bind-options" => default_options(
            rest,
            &mut g.bind_versions,
            &mut g.bind_no_tls_tickets,
            Some(&mut g.bind_prefer_client_ciphers),
        ),
        "ssl-default-server-options" => default_options(
            rest,
            &mut g.server_versions,
            &mut g.server_no_tls_tickets,
            None,
        ),
        "ssl-server-verify" => match arg.as_deref() {
            Some("none") => {
                g.server_verify_none = true;
                Ok(())
            }
            Some("required") => {
                g.server_verify_none = false;
                Ok(())
            }
            _ => Err(format!("'{kw}' expects 'none' or 'required' as argument.")),
        },
        "ssl-dh-param-file" => need(kw, arg, "a file path").map(|v| g.dh_param_file = Some(v)),
        "issuers-chain-path" => {
            need(kw, arg, "a directory").map(|v| g.issuers_chain_path = Some(v))
        }
        "tune.ssl.default-dh-param" => num(arg).map(|v| g.default_dh_param = v),
        "tune.ssl.cachesize" => num(arg).map(|v| g.cachesize = Some(v)),
        "tune.ssl.lifetime" => match arg
            .as_deref()
            .map(|a| crate::cfg::units::parse_time_ms(a, 1000))
        {
            Some(Ok(ms)) => {
                g.lifetime = Some(ms / 1000);
                Ok(())
            }
            _ => Err(format!("'{kw}' expects a time value.")),
        },
        "tune.ssl.maxrecord" => num(arg).map(|v| g.maxrecord = v as usize),
        // Tuning with no effect on one thread and OpenSSL 3's defaults.
        "tune.ssl.force-private-cache"
        | "tune.ssl.ssl-ctx-cache-size"
        | "tune.ssl.capture-buffer-size"
        | "tune.ssl.capture-cipherlist-size"
        | "tune.ssl.keylog"
        | "ssl-mode-async"
        | "ssl-load-extra-files"
        | "ssl-load-extra-del-ext"
        | "ssl-skip-self-issued-ca" => Ok(()),
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn bind(line: &str) -> Result<BindSsl, String> {
        let mut o = BindSsl::default();
        let w = words(line);
        let mut it = w.into_iter();
        while let Some(k) = it.next() {
            match bind_kw(&mut o, &k, &mut || it.next()) {
                Some(r) => r?,
                None => return Err(format!("not tls: {k}")),
            }
        }
        Ok(o)
    }

    #[test]
    fn bind_keywords_fill_the_options() {
        let o = bind("ssl crt a.pem crt b.pem alpn h2,http/1.1 ssl-min-ver TLSv1.3 no-tlsv12 strict-sni verify optional ca-file ca.pem")
            .expect("valid");
        assert!(o.enabled && o.strict_sni);
        assert_eq!(o.crts, ["a.pem", "b.pem"]);
        assert_eq!(o.alpn.as_deref(), Some(&b"\x02h2\x08http/1.1"[..]));
        assert_eq!(o.versions.min, Some(TlsVer::Tls13));
        assert_eq!(o.versions.no, 1 << TlsVer::Tls12 as u8);
        assert_eq!(o.verify, Verify::Optional);
        assert!(bind("verify maybe").is_err());
        assert!(bind("ssl-min-ver TLSv9").is_err());
        assert!(bind("crt").is_err());
        assert!(bind("alpn").is_err());
    }

    #[test]
    fn crt_list_options_are_limited_to_the_allowed_ones() {
        let mut o = BindSsl::default();
        apply_list_opts(&mut o, &words("alpn h2 verify required")).expect("valid");
        assert_eq!(o.verify, Verify::Required);
        assert!(apply_list_opts(&mut o, &words("crt x.pem")).is_err());
    }

    #[test]
    fn global_defaults_parse_versions_and_flags() {
        let mut g = GlobalSsl::default();
        global_kw(
            &mut g,
            &words("ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets"),
        )
        .expect("tls keyword")
        .expect("valid");
        assert_eq!(g.bind_versions.min, Some(TlsVer::Tls12));
        assert!(g.bind_no_tls_tickets);
        assert!(global_kw(&mut g, &words("maxconn 10")).is_none());
        assert!(
            global_kw(&mut g, &words("ssl-server-verify maybe"))
                .expect("tls keyword")
                .is_err()
        );
    }
}
