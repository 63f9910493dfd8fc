//! The configuration check's TLS step: loads every certificate, CA and CRL
//! file the bind and server lines name, and builds their contexts, with
//! HAProxy's alerts for what fails.

use super::TlsErr;
use super::bind::{BindTls, SniEntry, build_ctx};
use super::certs::{Ckch, load_crt_arg, parse_crt_list};
use super::opts::{BindSsl, GlobalSsl, Verify};
use crate::cfg::diag::{Diags, Level};
use crate::cfg::model::Config;
use std::collections::HashMap;
use std::rc::Rc;

/// Builds the TLS state of every bind and server line with `ssl`.
pub fn build_all(cfg: &mut Config, diags: &mut Diags) {
    let g = cfg.global.ssl.clone();
    let mut loaded: HashMap<String, Rc<Ckch>> = HashMap::new();
    let mut binds = Vec::new();
    for px in cfg.proxies.iter_mut().filter(|p| !p.disabled) {
        for b in px.binds.iter_mut().filter(|b| b.ssl.enabled) {
            let id = binds.len();
            if px.mode == crate::cfg::model::Mode::Http {
                b.ssl.no_h2 = true;
                let offers_h2 = |w: &Option<Vec<u8>>| {
                    w.as_deref()
                        .is_some_and(|w| super::opts::alpn_without_h2(w).as_deref() != Some(w))
                };
                if offers_h2(&b.ssl.alpn) {
                    diags.warn(
                        &b.file,
                        b.line,
                        format!(
                            "'bind {}' : HTTP/2 is not supported yet by haproxy-rs: 'h2' is left out of the ALPN offer (clients use HTTP/1.1).",
                            b.text
                        ),
                    );
                }
            }
            let sign_ca = if b.ssl.generate_certificates {
                let place = format!("{}:{}", b.file, b.line);
                let r = match b.ssl.ca_sign_file.as_deref() {
                    None => Err(format!(
                        "cannot enable certificate generation, no CA certificate File configured at [{place}]."
                    )),
                    Some(f) => super::forge::load_ca(
                        &GlobalSsl::based(&g.ca_base, f),
                        b.ssl.ca_sign_pass.as_deref(),
                        &place,
                    ),
                };
                match r {
                    Ok(ca) => Some(ca),
                    Err(m) => {
                        let unreadable = m.starts_with("Failed to read");
                        diags.global(Level::Alert, format!("Proxy '{}': {m}", px.name));
                        if unreadable {
                            // 2.6 follows this one with an empty line.
                            diags.raw("");
                        }
                        continue;
                    }
                }
            } else {
                None
            };
            if let Some(f) = b.ssl.tls_ticket_keys.as_deref() {
                match super::tickets::TicketKeys::load(f) {
                    Ok(k) => super::tickets::set_for_bind(id, f, k),
                    Err(m) => {
                        diags.alert(
                            &b.file,
                            b.line,
                            format!("'bind {}' in section '{}' : {m}", b.text, px.kind),
                        );
                        continue;
                    }
                }
            }
            match bind_tls(&b.ssl, &g, id, &mut loaded) {
                Ok(Some(mut t)) => {
                    b.tls_id = Some(id);
                    t.base = Rc::new(b.ssl.clone());
                    t.place = (b.file.clone(), b.line);
                    t.sign_ca = sign_ca;
                    binds.push(t);
                }
                Ok(None) => diags.global(
                    Level::Alert,
                    format!(
                        "Proxy '{}': no SSL certificate specified for bind '{}' at [{}:{}] (use 'crt').",
                        px.name, b.text, b.file, b.line
                    ),
                ),
                Err(TlsErr::Parse { pre, msg }) => {
                    if let Some(p) = pre {
                        diags.global(Level::Alert, p);
                    }
                    diags.alert(
                        &b.file,
                        b.line,
                        format!("'bind {}' in section '{}' : {msg}", b.text, px.kind),
                    );
                }
                Err(TlsErr::Post { msg, dup }) => {
                    let m = format!(
                        "Proxy '{}': {msg} for bind '{}' at [{}:{}].",
                        px.name, b.text, b.file, b.line
                    );
                    if dup {
                        diags.global(Level::Alert, m.clone());
                        diags.raw(m);
                    } else {
                        diags.global(Level::Alert, m);
                    }
                }
            }
        }
    }
    cfg.tls_binds = binds;
    for pi in 0..cfg.proxies.len() {
        let Some(px) = cfg.proxies.get(pi).filter(|p| !p.disabled) else {
            continue;
        };
        let pname = px.name.clone();
        let file = px.file.clone();
        for si in 0..px.servers.len() {
            let Some(s) = cfg.proxies.get(pi).and_then(|p| p.servers.get(si)) else {
                continue;
            };
            if !s.ssl.enabled && !s.ssl.check_ssl {
                continue;
            }
            let (sname, line) = (s.name.clone(), s.line);
            let verify_default = s.ssl.verify == Verify::Unset && !g.server_verify_none;
            if s.ssl.enabled
                && s.ssl.ca_file.is_none()
                && (s.ssl.verify == Verify::Required || verify_default)
            {
                // 2.6 words it "by default" unless `ssl-server-verify none`.
                let msg = if !g.server_verify_none {
                    format!(
                        "[{file}:{line}] : 'server {pname}/{sname}' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."
                    )
                } else {
                    format!(
                        "[{file}:{line}] : 'server {pname}/{sname}' : verify is enabled but no CA file specified."
                    )
                };
                diags.global(Level::Alert, msg);
                continue;
            }
            let built = super::server::build(&s.ssl, &g);
            let sni_text = s.ssl.sni.clone();
            let sni = match sni_text {
                Some(t) => {
                    let mut pcx = crate::rules::expr::ParseCx {
                        store: &mut cfg.rules,
                        file: &file,
                        line,
                        base_dir: None,
                    };
                    match crate::rules::expr::SampleExpr::parse(&t, &mut pcx) {
                        Ok(x) => Some(x),
                        Err(e) => {
                            diags.alert(
                                &file,
                                line,
                                format!("'server {pname}/{sname}' : error detected while parsing sni expression : {}", e.0),
                            );
                            continue;
                        }
                    }
                }
                None => None,
            };
            let Some(s) = cfg.proxies.get_mut(pi).and_then(|p| p.servers.get_mut(si)) else {
                continue;
            };
            match built {
                Ok(t) => {
                    let t = Rc::new(t);
                    s.tls = Some(Rc::clone(&t));
                    s.sni_expr = sni;
                    cfg.tls_servers.push(t);
                }
                Err(TlsErr::Parse { pre, msg }) => {
                    if let Some(p) = pre {
                        diags.global(Level::Alert, p);
                    }
                    diags.alert(&file, line, format!("'server {pname}/{sname}' : {msg}"));
                }
                Err(TlsErr::Post { msg, .. }) => diags.global(
                    Level::Alert,
                    format!("Proxy '{pname}', server '{sname}' [{file}:{line}] {msg}."),
                ),
            }
        }
    }
}

/// A bind line's entries: its `crt`s, then its `crt-list`s' lines. None
/// when it names no certificate.
fn bind_tls(
    o: &BindSsl,
    g: &GlobalSsl,
    id: usize,
    loaded: &mut HashMap<String, Rc<Ckch>>,
) -> Result<Option<BindTls>, TlsErr> {
    let mut entries = Vec::new();
    let opts = Rc::new(o.clone());
    for crt in &o.crts {
        let path = GlobalSsl::based(&g.crt_base, crt);
        // A directory is a crt-list of its files for the stats socket
        // (2.6 numbers their lines 0).
        let dir = std::path::Path::new(&path)
            .is_dir()
            .then(|| (path.trim_end_matches('/').to_string(), 0));
        let list = match loaded.get(&path) {
            Some(c) => vec![Rc::clone(c)],
            None => load_crt_arg(&path)?
                .into_iter()
                .map(|c| {
                    let c = Rc::new(c);
                    loaded.insert(c.path.clone(), Rc::clone(&c));
                    c
                })
                .collect(),
        };
        for ckch in list {
            let ctx = build_ctx(o, g, &ckch, id)?;
            entries.push(SniEntry {
                names: ckch.names(),
                ckch,
                ctx,
                opts: Rc::clone(&opts),
                neg: Vec::new(),
                from_list: dir.clone(),
                multi: None,
            });
        }
    }
    for list in &o.crt_lists {
        let path = GlobalSsl::based(&g.crt_base, list);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "'crt-list' : cannot open file '{path}' : {}",
                crate::cfg::parse::strerror(&e)
            )
        })?;
        let lines = parse_crt_list(&text)
            .map_err(|(ln, e)| format!("'crt-list' : parsing [{path}:{ln}]: {e}"))?;
        for l in lines {
            let mut lo = o.clone();
            crate::cfg::ssl_kw::apply_list_opts(&mut lo, &l.opts).map_err(|e| {
                // 2.6 names the list's place for keywords, not for values.
                if e.starts_with("unknown ssl keyword") {
                    format!("'crt-list' : parsing [{path}:{}]: {e}", l.line)
                } else {
                    format!("'crt-list' : {e}")
                }
            })?;
            let cpath = GlobalSsl::based(&g.crt_base, &l.crt);
            let ckch = match loaded.get(&cpath) {
                Some(c) => Rc::clone(c),
                None => {
                    let c = Rc::new(Ckch::load(&cpath).map_err(|e| format!("'crt-list' : {e}"))?);
                    loaded.insert(cpath.clone(), Rc::clone(&c));
                    c
                }
            };
            // 2.6 does not repeat a crt-list line's errors.
            let ctx = build_ctx(&lo, g, &ckch, id).map_err(|e| match e {
                TlsErr::Post { msg, .. } => TlsErr::Post { msg, dup: false },
                other => other,
            })?;
            entries.push(SniEntry::from_list_line(
                ckch,
                ctx,
                lo,
                &l.filters,
                (path.clone(), l.line),
            ));
        }
    }
    if entries.is_empty() {
        return Ok(None);
    }
    pair_key_types(&mut entries, g, id)?;
    Ok(Some(BindTls::new(entries, o.strict_sni, g.maxrecord)))
}

/// Entries serving the same names with certificates of other key types
/// than an earlier one's (RSA and ECDSA): the earlier one gets a context
/// holding them all, so that a client that supports ECDSA gets it and
/// the others RSA, as 2.6 selects. The entries themselves stay (the CLI
/// lists them).
fn pair_key_types(entries: &mut [SniEntry], g: &GlobalSsl, id: usize) -> Result<(), TlsErr> {
    // The entries by the names they serve, in order.
    let mut by_names: HashMap<(&[String], &[String]), Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_names.entry((&e.names, &e.neg)).or_default().push(i);
    }
    let mut built = Vec::new();
    for idx in by_names.values().filter(|v| v.len() > 1) {
        let mut group: Vec<&Ckch> = Vec::new();
        for e in idx.iter().filter_map(|i| entries.get(*i)) {
            if !group.iter().any(|c| c.key.id() == e.ckch.key.id()) {
                group.push(&e.ckch);
            }
        }
        if let (true, Some(first)) = (group.len() > 1, idx.first().and_then(|i| entries.get(*i))) {
            let ctx = super::bind::build_ctx_with(&first.opts, g, &group, id)?;
            built.push((idx.first().copied(), ctx));
        }
    }
    for (i, ctx) in built {
        if let Some(e) = i.and_then(|i| entries.get_mut(i)) {
            e.multi = Some(ctx);
        }
    }
    Ok(())
}
