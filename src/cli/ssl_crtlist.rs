//! `show|add|del ssl crt-list`: a `crt-list` file's lines at run time.
//! An added line builds one context per bind using the list (one `.`
//! each) and takes the next line number; a deleted line's contexts leave
//! their binds, unless one is a bind's default certificate.

use super::ssl::{Commit, binds, swap_in, tls_msg};
use crate::ssl::bind::SniEntry;
use crate::ssl::opts::{BindSsl, GlobalSsl, TlsVer, Verify};
use crate::ssl::reg;
use crate::ssl::store::{self, ListLine, Store};
use std::rc::Rc;

type Step = Result<String, Option<Commit>>;

fn ver_name(v: TlsVer) -> &'static str {
    match v {
        TlsVer::Ssl3 => "SSLv3",
        TlsVer::Tls10 => "TLSv1.0",
        TlsVer::Tls11 => "TLSv1.1",
        TlsVer::Tls12 => "TLSv1.2",
        TlsVer::Tls13 => "TLSv1.3",
    }
}

/// A line's options as 2.6 prints them back (`dump_crtlist_sslconf()`):
/// a fixed order, and a NUL after the `npn` and `alpn` values.
pub fn dump_conf(words: &[String], g: &GlobalSsl) -> String {
    if words.is_empty() {
        return String::new();
    }
    let mut o = BindSsl::default();
    let _ = crate::cfg::ssl_kw::apply_list_opts(&mut o, words);
    let mut parts: Vec<String> = Vec::new();
    // npn is not kept by the bind options: its last value, as written.
    let npn = words
        .iter()
        .rposition(|w| w == "npn")
        .and_then(|i| words.get(i + 1));
    if let Some(v) = npn {
        parts.push(format!("npn {v}\0"));
    }
    if let Some(a) = &o.alpn {
        let mut names = Vec::new();
        let mut w = a.as_slice();
        while let Some((&n, rest)) = w.split_first() {
            let (name, tail) = rest.split_at(usize::from(n).min(rest.len()));
            names.push(String::from_utf8_lossy(name).into_owned());
            w = tail;
        }
        parts.push(format!("alpn {}\0", names.join(",")));
    }
    match o.verify {
        Verify::None => parts.push("verify none".into()),
        Verify::Optional => parts.push("verify optional".into()),
        Verify::Required => parts.push("verify required".into()),
        Verify::Unset => {}
    }
    if o.no_ca_names {
        parts.push("no-ca-names".into());
    }
    if o.allow_0rtt {
        parts.push("allow-0rtt".into());
    }
    let based = |f: &String| GlobalSsl::based(&g.ca_base, f);
    let kv: [(&str, Option<String>); 6] = [
        ("ca-file", o.ca_file.as_ref().map(based)),
        ("crl-file", o.crl_file.as_ref().map(based)),
        ("ciphers", o.ciphers.clone()),
        ("ciphersuites", o.ciphersuites.clone()),
        ("curves", o.curves.clone()),
        ("ecdhe", o.ecdhe.clone()),
    ];
    for (k, v) in kv {
        if let Some(v) = v {
            parts.push(format!("{k} {v}"));
        }
    }
    if let Some(v) = o.versions.min {
        parts.push(format!("ssl-min-ver {}", ver_name(v)));
    }
    if let Some(v) = o.versions.max {
        parts.push(format!("ssl-max-ver {}", ver_name(v)));
    }
    format!(" [{}]", parts.join(" "))
}

/// One line of `show ssl crt-list <list>`.
pub fn dump_line(l: &ListLine, numbers: bool, g: &GlobalSsl) -> String {
    let mut o = l.crt.clone();
    if numbers {
        o += &format!(":{}", l.line);
    }
    o += &dump_conf(&l.opts, g);
    for f in &l.filters {
        o.push(' ');
        o += f;
    }
    o.push('\n');
    o
}

pub fn show_crtlist(s: &Store, args: &[&str]) -> Step {
    let (numbers, file) = match args {
        ["-n", rest @ ..] => (true, rest.first().copied().unwrap_or("")),
        _ => (false, args.first().copied().unwrap_or("")),
    };
    if numbers && file.is_empty() {
        return Ok("'show ssl crt-list -n' expects a filename or a directory\n\n".into());
    }
    if file.is_empty() {
        let mut o: String = s.lists.keys().map(|k| format!("{k}\n")).collect();
        o.push('\n');
        return Ok(o);
    }
    let file = file.trim_end_matches('/');
    let Some(list) = s.lists.get(file) else {
        return Ok("didn't find the specified filename\n\n".into());
    };
    let g = reg::global();
    let mut o = format!("# {file}\n");
    for l in &list.lines {
        o += &dump_line(l, numbers, &g);
    }
    o.push('\n');
    Ok(o)
}

/// The registry index of each bind using crt-list `list`.
fn list_binds(list: &str) -> Vec<usize> {
    let g = reg::global();
    binds()
        .into_iter()
        .filter(|(_, b)| {
            let based = |l: &String| GlobalSsl::based(&g.crt_base, l);
            b.base.crt_lists.iter().any(|l| based(l) == list)
                || b.base
                    .crts
                    .iter()
                    .any(|c| based(c).trim_end_matches('/') == list)
        })
        .map(|(i, _)| i)
        .collect()
}

/// A certificate a directory's crt-list may take: a file right in it.
fn in_dir(dir: &str, crt: &str) -> bool {
    crt.rsplit_once('/').is_some_and(|(d, _)| d == dir)
}

/// `add ssl crt-list <list> <cert>` or `add ssl crt-list <list> <<` with a
/// `crt-list` line as payload.
pub fn add_crtlist(args: &[&str], payload: Option<&str>) -> String {
    let list = args.first().copied().unwrap_or("").trim_end_matches('/');
    let cert = args.get(1).copied().unwrap_or("");
    if args.first().is_none_or(|a| a.is_empty()) || (payload.is_none() && cert.is_empty()) {
        return "'add ssl crtlist' expects a filename and a certificate name\n\n".into();
    }
    let err = |e: String| format!("Can't edit the crt-list: {e}\n\n");
    let g = reg::global();
    let Some((next, dir)) =
        reg::with_store(|s| s.lists.get(list).map(|l| (l.linecount + 1, l.dir))).flatten()
    else {
        return err(format!("crt-list '{list}' does not exist!"));
    };
    let mut line = match payload {
        Some(p) => {
            let p = p.strip_suffix('\n').unwrap_or(p);
            if p.contains('\n') {
                return err("only one line of payload is supported!".into());
            }
            let Some(l) = store::parse_line(p.trim(), &g) else {
                return err("parsing [CLI:1]: missing '['".into());
            };
            if let Err(e) = crate::cfg::ssl_kw::apply_list_opts(&mut BindSsl::default(), &l.opts) {
                return err(if e.starts_with("unknown ssl keyword") {
                    format!("parsing [CLI:1]: {e}")
                } else {
                    e
                });
            }
            l
        }
        // 2.6 ignores options and filters on the command line.
        None => ListLine {
            crt: store::crt_name(cert, &g),
            opts: Vec::new(),
            filters: Vec::new(),
            line: 0,
        },
    };
    line.line = next;
    if dir && !in_dir(list, &line.crt) {
        return err(format!(
            "'{list}' is a directory, certificate path '{}' must contain the directory path",
            line.crt
        ));
    }
    let data = reg::with_store(|s| s.certs.get(&line.crt).cloned()).flatten();
    let Some(data) = data else {
        return err(format!("certificate '{}' does not exist!", line.crt));
    };
    let Some(ckch) = data.to_ckch(&line.crt).map(Rc::new) else {
        return err(format!("certificate '{}' is empty!", line.crt));
    };
    if dir {
        let dup = reg::with_store(|s| {
            s.lists
                .get(list)
                .is_some_and(|l| l.lines.iter().any(|x| x.crt == line.crt))
        });
        if dup == Some(true) {
            return err("file already exists in this directory!".into());
        }
        if !line.opts.is_empty() || !line.filters.is_empty() {
            return err(
                "this is a directory, SSL configuration and filters are not allowed".into(),
            );
        }
    }
    // A context serving the same certificate already holds it: share.
    let ckch = binds()
        .iter()
        .flat_map(|(_, b)| b.entries.iter())
        .find(|e| e.ckch.path == line.crt)
        .map_or(ckch, |e| Rc::clone(&e.ckch));
    let mut out = format!("Inserting certificate '{}' in crt-list '{list}'", line.crt);
    let mut built = Vec::new();
    for i in list_binds(list) {
        let Some(b) = reg::bind(i) else { continue };
        out.push('.');
        let mut lo = (*b.base).clone();
        let _ = crate::cfg::ssl_kw::apply_list_opts(&mut lo, &line.opts);
        let ctx = match crate::ssl::bind::build_ctx(&lo, &g, &ckch, i) {
            Ok(c) => c,
            Err(e) => return format!("{out}\n{}Failed!\n\n", tls_msg(e)),
        };
        let mut nb = (*b).clone();
        nb.entries.push(SniEntry::from_list_line(
            Rc::clone(&ckch),
            ctx,
            lo,
            &line.filters,
            (list.to_string(), next),
        ));
        nb.reindex();
        built.push((i, nb));
    }
    swap_in(built);
    reg::with_store(|s| {
        if let Some(l) = s.lists.get_mut(list) {
            l.linecount = next;
            l.lines.push(line);
        }
    });
    out + "\nSuccess!\n\n"
}

/// `del ssl crt-list <list> <cert>[:<line>]`.
pub fn del_crtlist(s: &mut Store, args: &[&str]) -> Step {
    let (list, cert_arg) = match args {
        [l, c, ..] if !l.is_empty() && !c.is_empty() => (l.trim_end_matches('/'), *c),
        _ => return Ok("'del ssl crtlist' expects a filename and a certificate name\n\n".into()),
    };
    let err = |e: String| Ok(format!("Can't delete the entry: {e}\n\n"));
    let (cert, want) = match cert_arg.split_once(':') {
        None => (cert_arg, 0),
        Some((c, n)) => match n.parse::<usize>() {
            Ok(v) if n.bytes().all(|b| b.is_ascii_digit()) => (c, v),
            _ => return err(format!("wrong line number after colons in '{cert_arg}'!")),
        },
    };
    let Some(entries) = s.lists.get(list) else {
        return err(format!("crt-list '{list}' does not exist!"));
    };
    match s.certs.get(cert) {
        None => return err(format!("certificate '{cert}' does not exist!")),
        Some(d) if d.cert.is_none() => return err(format!("certificate '{cert}' is empty!")),
        Some(_) => {}
    }
    let hits: Vec<usize> = entries
        .lines
        .iter()
        .filter(|l| l.crt == cert)
        .map(|l| l.line)
        .collect();
    if hits.is_empty() {
        return err(format!(
            "certificate '{cert}' can't be found in crt-list '{list}'!"
        ));
    }
    let lines = hits
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let Some(line) = hits.iter().copied().find(|l| want == 0 || *l == want) else {
        return err(format!(
            "found a certificate '{cert}' but the line number is incorrect, please specify a correct line number preceded by colons ({lines})!"
        ));
    };
    if want == 0 && hits.len() > 1 {
        return err(format!(
            "found the certificate '{cert}' in several entries, please specify a line number preceded by colons ({lines})!"
        ));
    }
    let key = (list.to_string(), line);
    // A directory's own files all have line 0: the certificate tells them
    // apart.
    let is_it = |e: &SniEntry| e.from_list.as_ref() == Some(&key) && e.ckch.path == cert;
    let mut defaults = String::new();
    for (_, b) in binds() {
        if !b.strict_sni && b.entries.first().is_some_and(is_it) {
            defaults += &format!("\t- {}:{}\n", b.place.0, b.place.1);
        }
    }
    if !defaults.is_empty() {
        return err(format!(
            "certificate '{cert}' cannot be deleted, it is used as default certificate by the following frontends:\n{defaults}"
        ));
    }
    for (i, b) in binds() {
        if b.entries.iter().any(is_it) {
            let mut nb = (*b).clone();
            nb.entries.retain(|e| !is_it(e));
            nb.reindex();
            reg::replace(i, nb);
        }
    }
    if let Some(l) = s.lists.get_mut(list) {
        l.lines.retain(|l| l.line != line || l.crt != cert);
    }
    Ok(format!("Entry '{cert}' deleted in crtlist '{list}'!\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn options_print_in_2_6_order_with_its_nul_bytes() {
        let g = GlobalSsl::default();
        assert_eq!(
            dump_conf(&w("ssl-min-ver TLSv1.2 alpn h2,http/1.1"), &g),
            " [alpn h2,http/1.1\0 ssl-min-ver TLSv1.2]"
        );
        assert_eq!(
            dump_conf(&w("verify none ssl-min-ver TLSv1.2 alpn h2"), &g),
            " [alpn h2\0 verify none ssl-min-ver TLSv1.2]"
        );
        assert_eq!(
            dump_conf(
                &w(
                    "ciphers HIGH ecdhe prime256v1 no-ca-names allow-0rtt npn h2 ssl-max-ver TLSv1.3 ca-file /c.crt verify optional"
                ),
                &g
            ),
            " [npn h2\0 verify optional no-ca-names allow-0rtt ca-file /c.crt ciphers HIGH ecdhe prime256v1 ssl-max-ver TLSv1.3]"
        );
        assert_eq!(dump_conf(&[], &g), "");
    }

    #[test]
    fn a_directory_takes_only_its_own_files() {
        assert!(in_dir("/c/dir", "/c/dir/a.pem"));
        assert!(!in_dir("/c/dir", "/c/dir/sub/a.pem"));
        assert!(!in_dir("/c/dir", "/c/a.pem"));
        assert!(!in_dir("/c/dir", "a.pem"));
        assert!(!in_dir("/c/dir", "/c/dirx/a.pem"));
    }

    #[test]
    fn lines_print_back_with_numbers_and_filters() {
        let g = GlobalSsl::default();
        let l = store::parse_line("/a.pem [verify none] A.test !b.test", &g).expect("line");
        let l = ListLine { line: 6, ..l };
        assert_eq!(
            dump_line(&l, true, &g),
            "/a.pem:6 [verify none] A.test !b.test\n"
        );
        assert_eq!(
            dump_line(&l, false, &g),
            "/a.pem [verify none] A.test !b.test\n"
        );
    }
}
