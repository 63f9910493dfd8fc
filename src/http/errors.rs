//! HAProxy 2.6's built-in HTTP error responses, `errorfile` loading and
//! `errorloc302`/`errorloc303` responses.
//!
//! Every byte string here was captured from a running HAProxy 2.6.12 (HTTP/1.1
//! client, default keep-alive mode), not copied from its sources.
//!
//! Two renderings exist on the wire:
//! - 400 and 408 raised by the HTTP/1 connection layer itself (unparsable
//!   request, `timeout http-request` expiry) are sent in their raw form: mixed
//!   case names (`Content-length`, `Cache-Control`, `Connection: close`,
//!   `Content-Type`), then the connection is closed. Those are [`BUILTIN_400`]
//!   and [`BUILTIN_408`].
//! - Every error produced by a stream (502 bad response, 503 no server, 504
//!   server timeout, `http-request deny deny_status N`, ...) goes through the
//!   HTTP/1 encoder: lower-case names, the message's own `Connection` header
//!   dropped, and `connection: close` appended at the end only when the
//!   connection is to be closed (always for 400/408, whose built-in message
//!   asks for it; for an HTTP/1.0 client; in `httpclose`). The other
//!   constants are in this form. [`STREAM_400`] and [`STREAM_408`] are what
//!   `http-request deny deny_status 400|408` sends.
//!
//! 504 closes the client connection after the response although it carries
//! no `connection: close`; 502 and 503 keep it open.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// 200 (used by `monitor-uri`-like internal replies and `deny_status 200`).
pub const BUILTIN_200: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n";
/// 400 as sent by the HTTP/1 layer for an invalid request (then close).
pub const BUILTIN_400: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
/// 400 as sent by a stream (`http-request deny deny_status 400`), then close.
pub const STREAM_400: &[u8] = b"HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
pub const BUILTIN_401: &[u8] = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
pub const BUILTIN_403: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";
pub const BUILTIN_404: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n";
pub const BUILTIN_405: &[u8] = b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 146\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n";
/// 407: HAProxy 2.6's reason phrase is "Unauthorized" (sic), body says 407.
pub const BUILTIN_407: &[u8] = b"HTTP/1.1 407 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
/// 408 as sent by the HTTP/1 layer on `timeout http-request` (then close).
pub const BUILTIN_408: &[u8] = b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
/// 408 as sent by a stream (`http-request deny deny_status 408`), then close.
pub const STREAM_408: &[u8] = b"HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
pub const BUILTIN_410: &[u8] = b"HTTP/1.1 410 Gone\r\ncontent-length: 114\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n";
pub const BUILTIN_413: &[u8] = b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 106\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n";
pub const BUILTIN_425: &[u8] = b"HTTP/1.1 425 Too Early\r\ncontent-length: 80\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n";
pub const BUILTIN_429: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n";
pub const BUILTIN_500: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n";
/// 501: the body's second line really starts with a '.' in HAProxy 2.6.
pub const BUILTIN_501: &[u8] = b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 136\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n";
pub const BUILTIN_502: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";
pub const BUILTIN_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
pub const BUILTIN_504: &[u8] = b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

/// 422 as the HTTP/1 layer sends it for a request `Transfer-Encoding` with
/// codings before `chunked` (raw form, then close), captured from 2.6.12.
pub const RAW_422: &[u8] = b"HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n";

/// Status codes HAProxy 2.6 has a built-in message for; `errorfile` and
/// `errorloc*` accept exactly these (others: "status code 'N' not handled.").
pub const HANDLED_CODES: [u16; 17] = [
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// `tune.bufsize` default: an errorfile larger than this is truncated.
pub const DEFAULT_BUFSIZE: usize = 16384;

/// The built-in response for `status` as a client sees it on the wire (see
/// the module doc for the 400/408 renderings), or `None` when HAProxy has no
/// message for it.
pub fn builtin(status: u16) -> Option<&'static [u8]> {
    Some(match status {
        200 => BUILTIN_200,
        400 => BUILTIN_400,
        401 => BUILTIN_401,
        403 => BUILTIN_403,
        404 => BUILTIN_404,
        405 => BUILTIN_405,
        407 => BUILTIN_407,
        408 => BUILTIN_408,
        410 => BUILTIN_410,
        413 => BUILTIN_413,
        425 => BUILTIN_425,
        429 => BUILTIN_429,
        500 => BUILTIN_500,
        501 => BUILTIN_501,
        502 => BUILTIN_502,
        503 => BUILTIN_503,
        504 => BUILTIN_504,
        _ => return None,
    })
}

/// [`builtin`], falling back to the 500 message for a status without one.
/// HAProxy itself never needs the fallback from configuration:
/// `http-request deny deny_status 418` is a parse error, alert text
/// `error detected in frontend 'f' while parsing 'http-request deny' rule :
/// status code '418' not handled by default with 'default-errorfiles'
/// argument..` (two dots, as printed).
pub fn builtin_or_500(status: u16) -> &'static [u8] {
    builtin(status).unwrap_or(BUILTIN_500)
}

/// What `errorloc302 <code> <url>` (`errorloc` is the same) or
/// `errorloc303 <code> <url>` sends to an HTTP/1.1 keep-alive client; the URL
/// is copied verbatim. `status` other than 303 gives the 302 form. An HTTP/1.0
/// client also gets `connection: close` before the blank line.
pub fn errorloc(status: u16, url: &str) -> Vec<u8> {
    let start: &[u8] = if status == 303 {
        b"HTTP/1.1 303 See Other\r\n"
    } else {
        b"HTTP/1.1 302 Found\r\n"
    };
    let mut v = Vec::with_capacity(start.len() + 64 + url.len());
    v.extend_from_slice(start);
    v.extend_from_slice(b"cache-control: no-cache\r\ncontent-length: 0\r\nlocation: ");
    v.extend_from_slice(url.as_bytes());
    v.extend_from_slice(b"\r\n\r\n");
    v
}

/// Loads `errorfile <code> <path>` as HAProxy 2.6 does at parse time, with the
/// default `tune.bufsize`. Returns the file content (truncated to the buffer
/// size) or the alert text that follows `parsing [file:line] : errorfile : `.
/// The truncation warning is dropped; see [`load_errorfile_with`].
///
/// Note: HAProxy does not send the file as-is. It parses it into its internal
/// message and re-encodes it: header names lower-cased, values trimmed of
/// OWS, its `Connection` header replaced by the connection mode's own
/// (`connection: keep-alive` for an HTTP/1.0 message with a content-length to
/// an HTTP/1.1 client); the start line and body are kept (its status code too,
/// even if it differs from `<code>`); without content-length the client
/// connection is closed after the body. An empty file is accepted and sends
/// nothing (the connection is closed).
pub fn load_errorfile(path: &str) -> Result<Box<[u8]>, String> {
    load_errorfile_with(path, DEFAULT_BUFSIZE).1
}

/// [`load_errorfile`] with an explicit buffer size; also returns the warning
/// HAProxy prints (after `[WARNING]  (pid) : config : `) when it truncates,
/// printed before the alert. A truncated file always fails the size check
/// below, so the warning always comes with an alert.
///
/// Checks observed on HAProxy 2.6.12, in order, with their alert texts:
/// - cannot open: `error opening file '<path>'.`
/// - larger than bufsize: warning `custom error message file '<path>' larger
///   than <bufsize> bytes. Truncating.`, the rest checks the truncated data.
/// - not a parsable response: `'<path>': unable to parse headers (error
///   offset: <n>)` (`-2` when the header block is incomplete).
/// - a version token that is not 8 characters: `'<path>': invalid http
///   version (<token>)`.
/// - `Transfer-Encoding: chunked`: `'<path>': chunk-encoded payload not supported`
/// - content-length differing from the payload: `'<path>': payload size does
///   not match the announced content-length (<payload> != <cl>)`.
/// - not fitting the internal message buffer: `'<path>': unable to add
///   payload into the HTX message`. Measured cost: 85 + len(version) +
///   len(status) + len(reason) + sum(8 + len(name) + len(value)) over all
///   headers (including `Connection`) + (8 + len(body) if body non-empty)
///   must not exceed bufsize. So any truncated file fails.
pub fn load_errorfile_with(
    path: &str,
    bufsize: usize,
) -> (Option<String>, Result<Box<[u8]>, String>) {
    let Ok(mut data) = std::fs::read(path) else {
        return (None, Err(format!("error opening file '{path}'.")));
    };
    let mut warning = None;
    if data.len() > bufsize {
        data.truncate(bufsize);
        warning = Some(format!(
            "custom error message file '{path}' larger than {bufsize} bytes. Truncating."
        ));
    }
    if !data.is_empty()
        && let Err(e) = check_errorfile(&data, bufsize)
    {
        return (warning, Err(format!("'{path}': {e}")));
    }
    (warning, Ok(reencode(&data).into_boxed_slice()))
}

/// An errorfile as HAProxy 2.6 sends it (it keeps it in its internal form
/// and encodes that): the start line as written, header names lower-cased,
/// values trimmed, a folded value joined with a space, `Connection`
/// headers dropped (the reply gets the connection mode's own), then the
/// body. The file was checked first (`check_errorfile`).
fn reencode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut pos = data
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .count();
    let Some((sl_end, mut next)) = line_end(data, pos) else {
        return data.to_vec();
    };
    out.extend_from_slice(data.get(pos..sl_end).unwrap_or_default());
    out.extend_from_slice(b"\r\n");
    let mut skipping = false;
    while let Some((end, nx)) = line_end(data, next) {
        let line = data.get(next..end).unwrap_or_default();
        pos = nx;
        next = nx;
        if line.is_empty() {
            break;
        }
        if line.first().is_some_and(|c| *c == b' ' || *c == b'\t') {
            if !skipping && out.ends_with(b"\r\n") {
                out.truncate(out.len() - 2);
                out.push(b' ');
                out.extend_from_slice(line.trim_ascii());
                out.extend_from_slice(b"\r\n");
            }
            continue;
        }
        let (name, value) = line.split_at(line.iter().position(|&c| c == b':').unwrap_or(0));
        skipping = name.eq_ignore_ascii_case(b"connection");
        if skipping {
            continue;
        }
        out.extend(name.iter().map(u8::to_ascii_lowercase));
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.get(1..).unwrap_or_default().trim_ascii());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data.get(pos..).unwrap_or_default());
    out
}

/// Fixed part of the measured internal-message cost of an errorfile.
const HTX_FIXED_COST: usize = 85;
/// Per-block measured cost (one per header, one for a non-empty body).
const HTX_BLOCK_COST: usize = 8;

fn parse_err(off: isize) -> String {
    format!("unable to parse headers (error offset: {off})")
}

/// Finds the end of the line starting at `pos`: (end of content, next line).
fn line_end(data: &[u8], pos: usize) -> Option<(usize, usize)> {
    let rest = data.get(pos..)?;
    let nl = memchr::memchr(b'\n', rest)? + pos;
    let end = if nl > pos && data.get(nl - 1) == Some(&b'\r') {
        nl - 1
    } else {
        nl
    };
    Some((end, nl + 1))
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn check_errorfile(data: &[u8], bufsize: usize) -> Result<(), String> {
    // Empty lines before the status line are skipped.
    let mut pos = 0;
    while let Some(&c) = data.get(pos) {
        if c == b'\r' || c == b'\n' {
            pos += 1;
        } else {
            break;
        }
    }
    let (sl_end, mut next) = line_end(data, pos).ok_or_else(|| parse_err(-2))?;
    let sl = data.get(pos..sl_end).unwrap_or_default();
    // Version token: upper-case letters, digits, '/' and '.'.
    let vlen = sl.iter().take_while(|&&c| c != b' ').count();
    for (i, &c) in sl.iter().take(vlen).enumerate() {
        if !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'/' || c == b'.') {
            return Err(parse_err((pos + i) as isize));
        }
    }
    if vlen == 0 || vlen == sl.len() {
        return Err(parse_err(pos as isize));
    }
    let version = sl.get(..vlen).unwrap_or_default();
    let mut i = vlen;
    while sl.get(i) == Some(&b' ') {
        i += 1;
    }
    let st_start = i;
    while let Some(&c) = sl.get(i) {
        if c == b' ' {
            break;
        }
        if !c.is_ascii_digit() {
            return Err(parse_err((pos + i) as isize));
        }
        i += 1;
    }
    let status_len = i - st_start;
    if status_len == 0 {
        return Err(parse_err((pos + i) as isize));
    }
    let reason_len = sl.len().saturating_sub(i + 1);
    if version.len() != 8 {
        return Err(format!(
            "invalid http version ({})",
            String::from_utf8_lossy(version)
        ));
    }
    let mut cost = HTX_FIXED_COST + version.len() + status_len + reason_len;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    loop {
        let (end, nx) = line_end(data, next).ok_or_else(|| parse_err(-2))?;
        let line = data.get(next..end).unwrap_or_default();
        if line.is_empty() {
            next = nx;
            break;
        }
        if line.first().is_some_and(|c| *c == b' ' || *c == b'\t') {
            // obs-fold: continuation of the previous value.
            cost += line.len();
            next = nx;
            continue;
        }
        let nlen = line.iter().take_while(|&&c| is_tchar(c)).count();
        if nlen == 0 || line.get(nlen) != Some(&b':') {
            return Err(parse_err((next + nlen) as isize));
        }
        let name = line.get(..nlen).unwrap_or_default();
        let value = line.get(nlen + 1..).unwrap_or_default().trim_ascii();
        cost += HTX_BLOCK_COST + name.len() + value.len();
        if name.eq_ignore_ascii_case(b"content-length") {
            content_length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = true;
        }
        next = nx;
    }
    if chunked {
        return Err("chunk-encoded payload not supported".to_string());
    }
    let body = data.len().saturating_sub(next);
    if let Some(cl) = content_length
        && cl != body
    {
        return Err(format!(
            "payload size does not match the announced content-length ({body} != {cl})"
        ));
    }
    if body > 0 {
        cost += HTX_BLOCK_COST + body;
    }
    if cost > bufsize {
        return Err("unable to add payload into the HTX message".to_string());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn split(msg: &[u8]) -> (&str, &[u8]) {
        let p = msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (std::str::from_utf8(&msg[..p]).unwrap(), &msg[p + 4..])
    }

    fn check_well_formed(status: u16, msg: &[u8]) {
        let (head, body) = split(msg);
        let mut lines = head.split("\r\n");
        let sl = lines.next().unwrap();
        assert!(sl.starts_with(&format!("HTTP/1.1 {status} ")), "{sl}");
        let cl: usize = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim().parse().unwrap())
            .unwrap();
        assert_eq!(cl, body.len(), "status {status}");
        assert!(body.starts_with(format!("<html><body><h1>{status} ").as_bytes()));
    }

    #[test]
    fn every_status_present_and_well_formed() {
        for s in [
            400, 403, 404, 405, 408, 410, 425, 429, 500, 501, 502, 503, 504,
        ] {
            check_well_formed(s, builtin(s).unwrap());
        }
        for s in HANDLED_CODES {
            check_well_formed(s, builtin(s).unwrap());
        }
        check_well_formed(400, STREAM_400);
        check_well_formed(408, STREAM_408);
        assert_eq!(builtin(302), None);
        assert_eq!(builtin_or_500(418), BUILTIN_500);
        assert_eq!(builtin_or_500(503), BUILTIN_503);
    }

    #[test]
    fn errorfiles_are_reencoded_as_haproxy_sends_them() {
        let f =
            b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\n\
                  Content-Type: text/html\r\nX-Custom:   spaced  \r\n\r\n<html>x</html>\n";
        assert_eq!(
            reencode(f),
            b"HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\n\
              content-type: text/html\r\nx-custom: spaced\r\n\r\n<html>x</html>\n"
        );
        // Bare LF lines, a folded value.
        assert_eq!(
            reencode(b"\nHTTP/1.1 403 Forbidden\nA: 1\n  2\nContent-Length: 0\n\n"),
            b"HTTP/1.1 403 Forbidden\r\na: 1 2\r\ncontent-length: 0\r\n\r\n"
        );
    }

    #[test]
    fn errorloc_forms() {
        assert_eq!(
            errorloc(302, "http://example.com/sorry?x=1"),
            b"HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: http://example.com/sorry?x=1\r\n\r\n"
        );
        assert_eq!(
            errorloc(303, "/rel/path"),
            b"HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /rel/path\r\n\r\n"
        );
    }

    fn tmp(name: &str, data: &[u8]) -> String {
        let p = std::env::temp_dir().join(format!("hrs-errfile-{}-{name}", std::process::id()));
        std::fs::write(&p, data).unwrap();
        p.to_string_lossy().into_owned()
    }

    fn err(name: &str, data: &[u8]) -> String {
        let p = tmp(name, data);
        let e = load_errorfile(&p).unwrap_err();
        let _ = std::fs::remove_file(&p);
        e.strip_prefix(&format!("'{p}': ")).unwrap().to_string()
    }

    #[test]
    fn errorfile_checks_match_haproxy() {
        assert_eq!(
            load_errorfile("/nonexistent/x.http").unwrap_err(),
            "error opening file '/nonexistent/x.http'."
        );
        let ok = b"HTTP/1.0 503 Custom\r\nCache-Control: no-cache\r\n\r\nbody\n";
        let p = tmp("ok", ok);
        assert_eq!(
            &*load_errorfile(&p).unwrap(),
            b"HTTP/1.0 503 Custom\r\ncache-control: no-cache\r\n\r\nbody\n"
        );
        let _ = std::fs::remove_file(&p);
        let p = tmp("empty", b"");
        assert!(load_errorfile(&p).unwrap().is_empty());
        let _ = std::fs::remove_file(&p);

        assert_eq!(
            err("bad", b"no http here\n"),
            "unable to parse headers (error offset: 0)"
        );
        assert_eq!(
            err("req", b"GET / HTTP/1.1\r\n\r\n"),
            "unable to parse headers (error offset: 4)"
        );
        assert_eq!(
            err("hdr", b"HTTP/1.1 503 X\r\nBad Header: 3\r\n\r\n"),
            "unable to parse headers (error offset: 19)"
        );
        assert_eq!(
            err("inc", b"HTTP/1.1 503 X\r\n\r"),
            "unable to parse headers (error offset: -2)"
        );
        assert_eq!(
            err("ht", b"HT-P/1.1 503 X\r\n\r\n"),
            "unable to parse headers (error offset: 2)"
        );
        assert_eq!(
            err("abc", b"HTTP/1.1 abc X\r\n\r\n"),
            "unable to parse headers (error offset: 9)"
        );
        assert_eq!(
            err("ver", b"GETX 503 X\r\n\r\n"),
            "invalid http version (GETX)"
        );
        assert_eq!(
            err(
                "ch",
                b"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            ),
            "chunk-encoded payload not supported"
        );
        assert_eq!(
            err("cl", b"HTTP/1.0 503 X\r\nContent-Length: 3\r\n\r\nabcdef"),
            "payload size does not match the announced content-length (6 != 3)"
        );

        // Size limits measured on HAProxy 2.6.12 with bufsize 16384.
        let fits = |name: &str, data: Vec<u8>| {
            let p = tmp(name, &data);
            let r = load_errorfile(&p).is_ok();
            let _ = std::fs::remove_file(&p);
            r
        };
        let plain = |n: usize| [b"HTTP/1.0 503 X\r\n\r\n".as_slice(), &vec![b'a'; n]].concat();
        assert!(fits("p1", plain(16279)));
        assert!(!fits("p2", plain(16280)));
        let hdr = |n: usize| {
            [
                b"HTTP/1.0 503 X\r\nA: ".as_slice(),
                &vec![b'v'; n],
                b"\r\n\r\n",
            ]
            .concat()
        };
        assert!(fits("h1", hdr(16278)));
        assert!(!fits("h2", hdr(16279)));
        let conn = |n: usize| {
            [
                b"HTTP/1.0 503 X\r\nConnection: close\r\n\r\n".as_slice(),
                &vec![b'a'; n],
            ]
            .concat()
        };
        assert!(fits("c1", conn(16256)));
        assert!(!fits("c2", conn(16257)));
        let cl = |n: usize| {
            [
                format!("HTTP/1.0 503 X\r\nContent-Length: {n}\r\n\r\n").as_bytes(),
                &vec![b'a'; n],
            ]
            .concat()
        };
        assert!(fits("l1", cl(16252)));
        assert!(!fits("l2", cl(16253)));
        let p = tmp("big", &plain(17000));
        let e = load_errorfile_with(&p, DEFAULT_BUFSIZE).1.unwrap_err();
        let _ = std::fs::remove_file(&p);
        assert!(
            e.ends_with("unable to add payload into the HTX message"),
            "{e}"
        );
        let p = tmp("trunc", &plain(10));
        let (w, r) = load_errorfile_with(&p, 20);
        assert_eq!(
            w,
            Some(format!(
                "custom error message file '{p}' larger than 20 bytes. Truncating."
            ))
        );
        assert!(r.is_err());
        let _ = std::fs::remove_file(&p);
    }
}
