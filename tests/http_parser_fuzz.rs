//! Stable-toolchain fuzzing of the HTTP/1 parsers (`http::parse`,
//! `http::chunk`): random and mutated messages from a seeded xorshift PRNG,
//! bounded (`FUZZ_ITERS`, default 200 000 inputs; a few seconds in release).
//!
//! Checked on every input: no panic; every returned Span lies inside the
//! head, `Head.len <= input.len()`, error positions inside the input; the
//! caller's header Vec is never reallocated; feeding the bytes one at a time
//! (resumable `head_end`, `trailers`) or splitting them at any byte boundary
//! gives the result of parsing them whole; `parse_head` gives the same
//! answer on the whole buffer and on the block `head_end` delimits.
//! `FUZZ_SEED` picks another sequence.

use haproxy_rs::http::corpus::SMUGGLING_CASES;
use haproxy_rs::http::parse::{
    Framing, Hdr, Head, Kind, Method, ParseError, ParseOpts, Span, chunk_crlf, chunk_size,
    head_end, parse_head, trailers,
};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, s: &'a [T]) -> &'a T {
        &s[self.below(s.len())]
    }
}

const SEEDS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n",
    b"POST /upload?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
    b"GET http://a:80/x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\
      Sec-WebSocket-Key: k\r\n\r\n",
    b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    b"\r\n\nGET /a HTTP/1.0\nX-A: a\n b\nContent-Length: 0\n\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
    b"HTTP/1.0 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\
      Sec-WebSocket-Accept: x\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
];

const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n ",
    b"\r\n\r\n",
    b": ",
    b",",
    b" ",
    b"\t",
    b"chunked",
    b"Content-Length: ",
    b"Transfer-Encoding: ",
    b"Host: ",
    b"Connection: upgrade",
    b"Upgrade: websocket",
    b"0\r\n\r\n",
    b"FFFFFFFFFFFFFFFFF",
    b"18446744073709551616",
    b"HTTP/1.1",
    b"://",
    b";",
    b"\0",
    b"\x7f",
    b"\xff",
];

const BYTES: &[u8] = b"\r\n \t:,;/.0123456789aAfFzZ\0\x01\x7f\x80\xffHTTP";

fn mutate(rng: &mut XorShift, m: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(m.len() + 1);
        match rng.below(9) {
            0 if at < m.len() => m[at] = *rng.pick(BYTES),
            1 if at < m.len() => m[at] ^= 1 << rng.below(8),
            2 => m.insert(at, *rng.pick(BYTES)),
            3 if at < m.len() => {
                m.remove(at);
            }
            4 => {
                let t = rng.pick(TOKENS);
                m.splice(at..at, t.iter().copied());
            }
            5 => m.truncate(at),
            6 if at < m.len() => {
                let end = (at + rng.below(16)).min(m.len());
                let dup = m[at..end].to_vec();
                m.splice(end..end, dup);
            }
            7 => {
                // CRLF <-> LF
                if let Some(p) = m.windows(2).skip(at).position(|w| w == b"\r\n") {
                    m.remove(at + p);
                }
            }
            _ => {
                let other = rng.pick(SEEDS);
                let from = rng.below(other.len());
                m.splice(at..at, other[from..].iter().copied().take(rng.below(32)));
            }
        }
    }
}

fn input(rng: &mut XorShift) -> Vec<u8> {
    match rng.below(10) {
        0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
        1 => (0..rng.below(300)).map(|_| *rng.pick(BYTES)).collect(),
        2 | 3 => {
            let mut m = rng.pick(SEEDS).to_vec();
            mutate(rng, &mut m);
            m
        }
        4..=6 => {
            let mut m = rng.pick(SMUGGLING_CASES).1.to_vec();
            if rng.below(4) != 0 {
                mutate(rng, &mut m);
            }
            m
        }
        _ => rng.pick(SEEDS).to_vec(),
    }
}

fn inside(s: Span, end: usize, what: &str, m: &[u8]) {
    assert!(
        s.end() <= end,
        "{what} {s:?} beyond {end} in {:?}",
        String::from_utf8_lossy(m)
    );
}

fn check_head(m: &[u8], h: &Head, hdrs: &[Hdr], opts: &ParseOpts) {
    assert!(h.len <= m.len());
    assert_eq!(h.nb_hdrs, hdrs.len());
    assert!(hdrs.len() < opts.maxhdr.max(1));
    for (s, what) in [
        (h.meth, "meth"),
        (h.uri, "uri"),
        (h.version, "version"),
        (h.reason, "reason"),
    ] {
        inside(s, h.start_line.end(), what, m);
    }
    inside(h.start_line, h.len, "start_line", m);
    for x in hdrs {
        inside(x.line, h.len, "line", m);
        assert!(
            x.line.off <= x.name.off
                && x.name.end() <= x.value.off as usize
                && x.value.end() <= x.line.end()
        );
    }
}

/// Feeds `m` one byte at a time to `head_end` and checks each answer
/// against the whole-buffer one.
fn check_head_end_incremental(m: &[u8], whole: Option<usize>) {
    let mut sc = 0;
    for k in 0..=m.len() {
        let want = whole.filter(|&l| l <= k);
        assert_eq!(
            head_end(&m[..k], &mut sc),
            want,
            "prefix {k} of {:?}",
            String::from_utf8_lossy(m)
        );
        assert!(sc <= k.max(1));
        if want.is_some() {
            break;
        }
    }
}

/// Splits at every boundary: one call on the prefix, one on the whole.
fn check_head_end_splits(m: &[u8], whole: Option<usize>) {
    for cut in 0..=m.len() {
        let mut sc = 0;
        let first = head_end(&m[..cut], &mut sc);
        let second = if first.is_some() {
            first
        } else {
            head_end(m, &mut sc)
        };
        assert_eq!(second, whole, "cut {cut}");
    }
}

fn err_inside(e: ParseError, n: usize) {
    assert!(e.pos <= n, "error {e:?} beyond {n}");
}

/// Parses a chunk piece on every prefix of `b`: each answer is "need more"
/// or the whole-buffer answer, and is the latter once its bytes are there.
fn prefixes_agree<T: PartialEq + std::fmt::Debug + Copy>(
    b: &[u8],
    f: impl Fn(&[u8]) -> Result<Option<T>, ParseError>,
    used: impl Fn(T) -> usize,
) -> Result<Option<T>, ParseError> {
    let whole = f(b);
    let enough = match whole {
        Ok(Some(t)) => used(t),
        Err(e) => e.pos + 1,
        Ok(None) => usize::MAX,
    };
    for k in 0..b.len() {
        let r = f(&b[..k]);
        if k >= enough {
            assert_eq!(r, whole, "prefix {k} of {:?}", String::from_utf8_lossy(b));
        } else {
            assert!(
                r == Ok(None) || r == whole,
                "prefix {k}: {r:?} vs {whole:?}"
            );
        }
    }
    whole
}

/// Walks a chunked body from `p`, checking every piece.
fn walk_chunked(m: &[u8], mut p: usize, thorough: bool) {
    for _ in 0..64 {
        let rest = &m[p..];
        let size = if thorough {
            prefixes_agree(rest, chunk_size, |t| t.1)
        } else {
            chunk_size(rest)
        };
        let (size, n) = match size {
            Ok(Some(x)) => x,
            Ok(None) => return,
            Err(e) => return err_inside(e, rest.len()),
        };
        assert!(n <= rest.len());
        p += n;
        if size == 0 {
            let rest = &m[p..];
            let mut sc = 0;
            let whole = trailers(rest, &mut sc);
            if let Ok(Some(n)) = whole {
                assert!(n <= rest.len());
            }
            if let Err(e) = whole {
                err_inside(e, rest.len());
            }
            let mut sc = 0;
            for k in 0..=rest.len() {
                match trailers(&rest[..k], &mut sc) {
                    Ok(None) => assert!(sc <= k),
                    r => {
                        assert_eq!(r, whole, "trailers prefix {k}");
                        break;
                    }
                }
            }
            return;
        }
        if size > (m.len() - p) as u64 {
            return;
        }
        p += size as usize;
        let rest = &m[p..];
        let crlf = if thorough {
            prefixes_agree(rest, chunk_crlf, |n| n)
        } else {
            chunk_crlf(rest)
        };
        match crlf {
            Ok(Some(n)) => p += n,
            Ok(None) => return,
            Err(e) => return err_inside(e, rest.len()),
        }
    }
}

#[test]
fn http_parsers_never_panic_and_agree_with_themselves() {
    let iters: usize = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = XorShift(seed.max(1));
    let mut hdrs: Vec<Hdr> = Vec::with_capacity(101);
    let (mut ok, mut chunked) = (0usize, 0usize);
    for i in 0..iters {
        let m = input(&mut rng);
        let thorough = i % 64 == 0;
        let kind = if rng.below(2) == 0 {
            Kind::Request
        } else {
            Kind::Response
        };
        let opts = ParseOpts {
            maxhdr: if rng.below(8) == 0 {
                1 + rng.below(8)
            } else {
                101
            },
            accept_invalid: rng.below(3) == 0,
            req_method: *rng.pick(&[Method::Get, Method::Head, Method::Connect, Method::Post]),
        };
        if hdrs.capacity() < opts.maxhdr {
            hdrs = Vec::with_capacity(101);
        }
        let (ptr, cap) = (hdrs.as_ptr(), hdrs.capacity());

        let whole_end = head_end(&m, &mut 0);
        check_head_end_incremental(&m, whole_end);
        if thorough {
            check_head_end_splits(&m, whole_end);
        }

        let r = parse_head(&m, kind, &opts, &mut hdrs);
        assert_eq!(
            (hdrs.as_ptr(), hdrs.capacity()),
            (ptr, cap),
            "hdrs reallocated"
        );
        match &r {
            Ok(h) => {
                ok += 1;
                check_head(&m, h, &hdrs, &opts);
                assert_eq!(
                    whole_end,
                    Some(h.len),
                    "head_end disagrees on {:?}",
                    String::from_utf8_lossy(&m)
                );
                if h.framing == Framing::Chunked {
                    chunked += 1;
                    walk_chunked(&m, h.len, thorough);
                }
            }
            Err(e) => err_inside(*e, m.len()),
        }
        if let Some(l) = whole_end {
            let mut other = Vec::with_capacity(101);
            let block = parse_head(&m[..l], kind, &opts, &mut other);
            assert_eq!(
                block,
                r,
                "block {l} vs whole of {:?}",
                String::from_utf8_lossy(&m)
            );
            assert_eq!(other, hdrs);
        }

        // Chunk pieces on arbitrary bytes too.
        let _ = chunk_size(&m).map_err(|e| err_inside(e, m.len()));
        let _ = chunk_crlf(&m).map_err(|e| err_inside(e, m.len()));
        if thorough {
            let _ = prefixes_agree(&m, chunk_size, |t| t.1);
        }
    }
    eprintln!("fuzz: {iters} inputs, {ok} heads parsed, {chunked} chunked bodies walked");
    // The generator must reach the interesting paths.
    assert!(ok > iters / 10, "only {ok} heads parsed");
    assert!(chunked > iters / 100, "only {chunked} chunked bodies");
}

#[test]
fn valid_seeds_parse_identically_at_every_split() {
    let mut hdrs = Vec::with_capacity(101);
    for m in SEEDS.iter().chain(SMUGGLING_CASES.iter().map(|c| &c.1)) {
        let end = head_end(m, &mut 0);
        check_head_end_splits(m, end);
        check_head_end_incremental(m, end);
        for kind in [Kind::Request, Kind::Response] {
            if let Ok(h) = parse_head(m, kind, &ParseOpts::default(), &mut hdrs) {
                check_head(m, &h, &hdrs, &ParseOpts::default());
                if h.framing == Framing::Chunked {
                    walk_chunked(m, h.len, true);
                }
            }
        }
    }
}
