//! `http-request normalize-uri` (configuration.txt 4.2; experimental in
//! 2.6): rewrites of the request URI's path and query, sans-IO.
//!
//! Results checked against HAProxy 2.6.12 (see the tests):
//! - `path-merge-slashes`: runs of `/` become one.
//! - `path-strip-dot`: `/.` segments go (`/a/./b/` -> `/a/b/`).
//! - `path-strip-dotdot [full]`: `seg/..` pairs go; a `..` above the root
//!   stays unless `full`.
//! - `percent-decode-unreserved [strict]`: `%XX` of an unreserved character
//!   (letters, digits, `-._~`) is decoded, in the path and the query.
//! - `percent-to-uppercase [strict]`: hex digits of `%XX` in upper case.
//!   With `strict`, a malformed `%` sequence makes the request invalid
//!   (400); without, it is kept.
//! - `query-sort-by-name`: parameters sorted by name, stable.
//! - `fragment-strip` / `fragment-encode`: drop `#...` / write `#` as `%23`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// A malformed `%` escape under `strict` (the request is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEscape;

/// One normalizer and its option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalizer {
    PathMergeSlashes,
    PathStripDot,
    /// `full`: `..` above the root are dropped too.
    PathStripDotdot(bool),
    /// `strict`: malformed escapes are an error.
    PercentDecodeUnreserved(bool),
    PercentToUppercase(bool),
    QuerySortByName,
    FragmentStrip,
    FragmentEncode,
}

impl Normalizer {
    /// Parses `<name> [option]` as written after `normalize-uri`.
    pub fn parse(name: &str, opt: Option<&str>) -> Result<Normalizer, String> {
        let flag = |want: &str| -> Result<bool, String> {
            match opt {
                None => Ok(false),
                Some(o) if o == want => Ok(true),
                Some(o) => Err(format!(
                    "unknown argument '{o}' for normalizer '{name}' (only '{want}' is supported)"
                )),
            }
        };
        let no_opt = || match opt {
            None => Ok(()),
            Some(o) => Err(format!("unexpected argument '{o}' for normalizer '{name}'")),
        };
        Ok(match name {
            "path-merge-slashes" => no_opt().map(|()| Normalizer::PathMergeSlashes)?,
            "path-strip-dot" => no_opt().map(|()| Normalizer::PathStripDot)?,
            "path-strip-dotdot" => Normalizer::PathStripDotdot(flag("full")?),
            "percent-decode-unreserved" => Normalizer::PercentDecodeUnreserved(flag("strict")?),
            "percent-to-uppercase" => Normalizer::PercentToUppercase(flag("strict")?),
            "query-sort-by-name" => no_opt().map(|()| Normalizer::QuerySortByName)?,
            "fragment-strip" => no_opt().map(|()| Normalizer::FragmentStrip)?,
            "fragment-encode" => no_opt().map(|()| Normalizer::FragmentEncode)?,
            _ => {
                return Err(format!(
                    "unknown normalizer '{name}' (expects 'path-merge-slashes', 'path-strip-dot', 'path-strip-dotdot', 'percent-decode-unreserved', 'percent-to-uppercase', 'query-sort-by-name', 'fragment-strip' or 'fragment-encode')"
                ));
            }
        })
    }

    /// Applies to a request URI (origin or absolute form); an error for a
    /// malformed escape under `strict`.
    pub fn apply(self, uri: &[u8]) -> Result<Vec<u8>, BadEscape> {
        let (path_at, path_end, query_end) = split(uri);
        let head = uri.get(..path_at).unwrap_or(&[]);
        let path = uri.get(path_at..path_end).unwrap_or(&[]);
        let query = uri.get(path_end..query_end).unwrap_or(&[]);
        let frag = uri.get(query_end..).unwrap_or(&[]);
        let mut out = Vec::with_capacity(uri.len() + 4);
        out.extend_from_slice(head);
        match self {
            Normalizer::PathMergeSlashes => {
                for (i, &c) in path.iter().enumerate() {
                    if !(c == b'/' && i > 0 && path.get(i - 1) == Some(&b'/')) {
                        out.push(c);
                    }
                }
                out.extend_from_slice(query);
                out.extend_from_slice(frag);
            }
            Normalizer::PathStripDot => {
                out.extend_from_slice(&strip_dot(path));
                out.extend_from_slice(query);
                out.extend_from_slice(frag);
            }
            Normalizer::PathStripDotdot(full) => {
                out.extend_from_slice(&strip_dotdot(path, full));
                out.extend_from_slice(query);
                out.extend_from_slice(frag);
            }
            Normalizer::PercentDecodeUnreserved(strict) => {
                let rest = uri.get(path_at..query_end).unwrap_or(&[]);
                percent(rest, strict, &mut out, |c, hi, lo| {
                    if is_unreserved(c) {
                        vec![c]
                    } else {
                        vec![b'%', hi, lo]
                    }
                })?;
                out.extend_from_slice(frag);
            }
            Normalizer::PercentToUppercase(strict) => {
                let rest = uri.get(path_at..query_end).unwrap_or(&[]);
                percent(rest, strict, &mut out, |_, hi, lo| {
                    vec![b'%', hi.to_ascii_uppercase(), lo.to_ascii_uppercase()]
                })?;
                out.extend_from_slice(frag);
            }
            Normalizer::QuerySortByName => {
                out.extend_from_slice(path);
                if let Some(q) = query.strip_prefix(b"?") {
                    let mut params: Vec<&[u8]> = q.split(|c| *c == b'&').collect();
                    params.sort_by(|a, b| name(a).cmp(name(b)));
                    out.push(b'?');
                    out.extend_from_slice(&params.join(&b'&'));
                }
                out.extend_from_slice(frag);
            }
            Normalizer::FragmentStrip => {
                out.extend_from_slice(path);
                out.extend_from_slice(query);
            }
            Normalizer::FragmentEncode => {
                out.extend_from_slice(path);
                out.extend_from_slice(query);
                if let Some(f) = frag.strip_prefix(b"#") {
                    out.extend_from_slice(b"%23");
                    out.extend_from_slice(f);
                }
            }
        }
        Ok(out)
    }
}

/// Offsets of the path's start, the query's start (`?`), the fragment's
/// start (`#`), within `uri`.
fn split(uri: &[u8]) -> (usize, usize, usize) {
    let path_at = if uri.first() == Some(&b'/') {
        0
    } else if let Some(i) = memchr::memmem::find(uri, b"://") {
        let a = i + 3;
        uri.get(a..)
            .and_then(|r| memchr::memchr(b'/', r))
            .map_or(uri.len(), |p| a + p)
    } else {
        0
    };
    let frag = memchr::memchr(b'#', uri).unwrap_or(uri.len()).max(path_at);
    let query = uri
        .get(path_at..frag)
        .and_then(|p| memchr::memchr(b'?', p))
        .map_or(frag, |q| path_at + q);
    (path_at, query, frag)
}

fn name(param: &[u8]) -> &[u8] {
    param
        .get(..memchr::memchr(b'=', param).unwrap_or(param.len()))
        .unwrap_or(param)
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Rewrites each well-formed `%XX` of `s` with `f(byte, hi, lo)`; a
/// malformed one is an error when `strict`, else copied.
fn percent(
    s: &[u8],
    strict: bool,
    out: &mut Vec<u8>,
    f: impl Fn(u8, u8, u8) -> Vec<u8>,
) -> Result<(), BadEscape> {
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        let (hi, lo) = (s.get(i + 1).copied(), s.get(i + 2).copied());
        match (hi, lo) {
            (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                let v = hex(h) * 16 + hex(l);
                out.extend_from_slice(&f(v, h, l));
                i += 3;
            }
            _ if strict => return Err(BadEscape),
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.to_ascii_uppercase().wrapping_sub(b'A') + 10,
    }
}

/// Drops `.` segments; a trailing `/.` leaves its slash.
fn strip_dot(path: &[u8]) -> Vec<u8> {
    let segs: Vec<&[u8]> = path.split(|c| *c == b'/').collect();
    let n = segs.len();
    let mut out: Vec<&[u8]> = Vec::with_capacity(n);
    for (i, seg) in segs.iter().enumerate() {
        if *seg == b"." && i > 0 {
            if i == n - 1 {
                out.push(b"");
            }
            continue;
        }
        out.push(seg);
    }
    out.join(&b'/')
}

/// Drops `seg/..` pairs; `..` above the root stays unless `full`. A path
/// ending in `..` keeps a trailing slash.
fn strip_dotdot(path: &[u8], full: bool) -> Vec<u8> {
    let segs: Vec<&[u8]> = path.split(|c| *c == b'/').collect();
    let n = segs.len();
    // The first segment is what precedes the leading slash (empty).
    let mut out: Vec<&[u8]> = Vec::with_capacity(n);
    for (i, seg) in segs.iter().enumerate() {
        let last = i == n - 1;
        if *seg == b".." && i > 0 {
            // Pops a real segment (not the root, not a kept `..`).
            if out.len() > 1 && out.last().is_some_and(|p| *p != b"..") {
                out.pop();
            } else if !full {
                out.push(seg);
                if last {
                    out.push(b"");
                }
                continue;
            }
            if last {
                out.push(b"");
            }
            continue;
        }
        out.push(seg);
    }
    let mut v = out.join(&b'/');
    if v.is_empty() {
        v.push(b'/');
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: Normalizer, uri: &str) -> String {
        match n.apply(uri.as_bytes()) {
            Ok(v) => String::from_utf8_lossy(&v).into_owned(),
            Err(BadEscape) => "400".into(),
        }
    }

    /// (normalizer, input, HAProxy 2.6.12's output; 400: refused).
    #[test]
    fn results_match_haproxy_26() {
        use Normalizer::*;
        let cases: &[(Normalizer, &str, &str)] = &[
            (
                PercentDecodeUnreserved(false),
                "/%7euser/%2fx%3a%41%2D?b=%7e&a=1",
                "/~user/%2fx%3aA-?b=~&a=1",
            ),
            (PercentDecodeUnreserved(false), "/%zz/%4", "/%zz/%4"),
            (PercentDecodeUnreserved(false), "/a%2e%2E/b", "/a../b"),
            (PercentDecodeUnreserved(true), "/%zz/%4", "400"),
            (
                PercentToUppercase(false),
                "/%7euser/%2fx%3a%41%2D?b=%7e&a=1",
                "/%7Euser/%2Fx%3A%41%2D?b=%7E&a=1",
            ),
            (PercentToUppercase(false), "/%zz/%4", "/%zz/%4"),
            (PercentToUppercase(false), "/a%2e%2E/b", "/a%2E%2E/b"),
            (PercentToUppercase(true), "/%zz/%4", "400"),
            (PathStripDotdot(false), "//x//../y", "//x/y"),
            (PathStripDotdot(false), "/a/b/../../../c", "/../c"),
            (PathStripDotdot(false), "/a/..", "/"),
            (PathStripDotdot(false), "/..", "/../"),
            (PathStripDotdot(false), "/a/../", "/"),
            (PathStripDotdot(false), "/a/./b/", "/a/./b/"),
            (
                PathStripDotdot(false),
                "//a///b/./c/../d?z=1&a=2&b",
                "//a///b/./d?z=1&a=2&b",
            ),
            (PathStripDotdot(false), "/x/./y/../../z/.", "/x/z/."),
            (PathStripDotdot(true), "/a/b/../../../c", "/c"),
            (PathStripDotdot(true), "/..", "/"),
            (PathStripDotdot(true), "/.././x", "/./x"),
            (PathMergeSlashes, "//x//../y", "/x/../y"),
            (
                PathMergeSlashes,
                "//a///b/./c/../d?z=1&a=2&b",
                "/a/b/./c/../d?z=1&a=2&b",
            ),
            (PathStripDot, "/a/./b/", "/a/b/"),
            (PathStripDot, "/x/./y/../../z/.", "/x/y/../../z/"),
            (PathStripDot, "/.././x", "/../x"),
            (QuerySortByName, "/x?c=3&a=1&b&a=0", "/x?a=1&a=0&b&c=3"),
            (
                QuerySortByName,
                "//a///b/./c/../d?z=1&a=2&b",
                "//a///b/./c/../d?a=2&b&z=1",
            ),
            (FragmentStrip, "/p?q#frag", "/p?q"),
            (FragmentEncode, "/p#fr#ag", "/p%23fr#ag"),
        ];
        let bad: Vec<String> = cases
            .iter()
            .filter(|(n, i, want)| run(*n, i) != *want)
            .map(|(n, i, want)| format!("{n:?} {i}: got {} want {want}", run(*n, i)))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }

    #[test]
    fn options_are_checked() {
        assert!(Normalizer::parse("path-strip-dotdot", Some("full")).is_ok());
        assert!(Normalizer::parse("path-strip-dotdot", Some("strict")).is_err());
        assert!(Normalizer::parse("path-merge-slashes", Some("x")).is_err());
        assert!(Normalizer::parse("nope", None).is_err());
    }
}
