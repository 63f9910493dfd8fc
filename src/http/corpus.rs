//! Request-smuggling corpus: raw requests and what HAProxy 2.6.12 (Debian
//! 2.6.12-1+deb12u4) did with each, sent alone on a new connection to a
//! `mode http` frontend with default options (no accept-invalid) and a
//! backend answering `200` with `content-length: 2`. `Forward`: the server got
//! the request and the client its 200; `Reject400` / `Reject422`: HAProxy
//! answered that status and the server saw nothing. Every request is complete
//! (head and body), so the outcome does not depend on timing.
//!
//! Used by the unit tests of `super::parse` and by the integration tests
//! (the same bytes to HAProxy and to haproxy-rs must give the same outcome).
//!
//! Left out on purpose: `Content-Length: 18446744073709551616` (2^64), which
//! 2.6.12 reads as 0 and forwards with the body as a second request (a
//! smuggling vector); haproxy-rs rejects every length above 2^63-1.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// What HAProxy 2.6 did with a request of the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Answered 400 Bad Request; nothing reached the server.
    Reject400,
    /// Answered 422 Unprocessable Content (Transfer-Encoding with codings
    /// before `chunked`); nothing reached the server.
    Reject422,
    /// Forwarded to the server; the client got the server's 200.
    Forward,
}

/// (name, request bytes, what HAProxy 2.6 did).
#[rustfmt::skip]
pub const SMUGGLING_CASES: &[(&str, &[u8], Expect)] = &[
    ("baseline_get", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Forward),
    ("baseline_post_cl", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", Expect::Forward),
    ("baseline_post_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Forward),
    ("cl_te_cl_first", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\
           Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::Forward),
    ("te_cl_te_first", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\
           Content-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::Forward),
    ("cl_te_http10", b"POST / HTTP/1.0\r\nHost: a\r\nContent-Length: 3\r\n\
           Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::Forward),
    ("te_space_before_colon", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_tab_before_colon", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_xchunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_chunked_identity", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n\
           5\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_identity_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n\
           5\r\nhello\r\n0\r\n\r\n", Expect::Reject422),
    ("te_gzip_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject422),
    ("te_chunked_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n\
           5\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_two_headers", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\
           Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_two_headers_gzip_last", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\
           Transfer-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_tab_prefix", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \tchunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Forward),
    ("te_trailing_tab", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Forward),
    ("te_uppercase", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Forward),
    ("te_quoted", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_empty", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n5\r\nhello\r\n0\r\n\
           \r\n", Expect::Reject400),
    ("te_vertical_tab", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_obs_fold", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\x20chunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Forward),
    ("te_parameter", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_trailing_comma", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Forward),
    ("te_leading_comma", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject422),
    ("te_space_in_token", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked identity\r\n\r\n\
           5\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_underscore_name", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n", Expect::Forward),
    ("te_http10", b"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\
           hello\r\n0\r\n\r\n", Expect::Forward),
    ("cl_dup_same", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n\
           hello", Expect::Forward),
    ("cl_dup_diff", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n\
           hello!", Expect::Reject400),
    ("cl_list_same", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", Expect::Forward),
    ("cl_list_diff", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", Expect::Reject400),
    ("cl_empty", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", Expect::Reject400),
    ("cl_plus_sign", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", Expect::Reject400),
    ("cl_minus_sign", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello", Expect::Reject400),
    ("cl_hex", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", Expect::Reject400),
    ("cl_inner_space", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\nhello", Expect::Reject400),
    ("cl_trailing_comma", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\nhello", Expect::Reject400),
    ("cl_leading_zeros", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\nhello", Expect::Forward),
    ("cl_overflow_20_digits", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n\
           hello", Expect::Reject400),
    ("cl_2_pow_63", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n\
           hello", Expect::Reject400),
    ("te_then_invalid_cl", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\
           Content-Length: abc\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("te_then_conflicting_cl", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\
           Content-Length: 1\r\nContent-Length: 2\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("cl_long_leading_zeros", b"POST / HTTP/1.1\r\nHost: a\r\n\
           Content-Length: 00000000000000000000000000000000000000005\r\n\r\nhello", Expect::Forward),
    ("cl_space_before_colon", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", Expect::Reject400),
    ("cl_trailing_space", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 \r\n\r\nhello", Expect::Forward),
    ("bare_lf_line_ends", b"POST / HTTP/1.1\nHost: a\nContent-Length: 5\n\nhello", Expect::Forward),
    ("bare_cr_in_value", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", Expect::Reject400),
    ("bare_cr_request_line", b"GET / HTTP/1.1\rHost: a\r\n\r\n", Expect::Reject400),
    ("nul_in_header_name", b"GET / HTTP/1.1\r\nHost: a\r\nX-\0: a\r\n\r\n", Expect::Reject400),
    ("nul_in_uri", b"GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("ctl_in_header_name", b"GET / HTTP/1.1\r\nHost: a\r\nX-\x01: a\r\n\r\n", Expect::Reject400),
    ("nul_in_header_value", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n", Expect::Forward),
    ("ctl_in_header_value", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n", Expect::Forward),
    ("space_in_header_name", b"GET / HTTP/1.1\r\nHost: a\r\nX A: a\r\n\r\n", Expect::Reject400),
    ("empty_header_name", b"GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", Expect::Reject400),
    ("header_without_colon", b"GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n", Expect::Reject400),
    ("obs_fold_first_header", b"GET / HTTP/1.1\r\n X-A: a\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("obs_fold_continuation", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n", Expect::Forward),
    ("chunk_size_overflow", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
           FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_size_2_pow_52", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
           10000000000000\r\nhello\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_size_leading_zeros", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
           00000000000000005\r\nhello\r\n0\r\n\r\n", Expect::Forward),
    ("chunk_extension", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
           5;foo=bar\r\nhello\r\n0;x\r\n\r\n", Expect::Forward),
    ("chunk_extension_quoted", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
           5;foo=\"b;r\"\r\nhello\r\n0\r\n\r\n", Expect::Forward),
    ("chunk_space_before_ext", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
           5 ;foo=bar\r\nhello\r\n0\r\n\r\n", Expect::Forward),
    ("chunk_space_before_size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\x205\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_0x_prefix", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_negative", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_bare_lf", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n\
           0\n\n", Expect::Forward),
    ("chunk_data_too_long", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\
           helloXX\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_cr_without_lf", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\
           hello\r0\r\n\r\n", Expect::Reject400),
    ("chunk_size_junk", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_empty_size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("chunk_ext_bare_cr", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\n\
           hello\r\n0\r\n\r\n", Expect::Reject400),
    ("trailer_ok", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\
           hello\r\n0\r\nX-T: 1\r\n\r\n", Expect::Forward),
    ("trailer_bad_name", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\
           hello\r\n0\r\nX T: 1\r\n\r\n", Expect::Reject400),
    ("trailer_no_colon", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\
           hello\r\n0\r\nXT\r\n\r\n", Expect::Reject400),
    ("leading_empty_lines", b"\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Forward),
    ("leading_space", b" GET / HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("http09_request", b"GET /\r\n\r\n", Expect::Reject400),
    ("version_lowercase", b"GET / http/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("version_1_10", b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("version_2_0", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", Expect::Forward),
    ("uri_space", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("uri_hash", b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("uri_8bit", b"GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("uri_del", b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("method_bad_char", b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("request_line_extra_spaces", b"GET   /   HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Forward),
    ("dup_host_diff", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Expect::Reject400),
    ("dup_host_same", b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", Expect::Forward),
    ("abs_uri_host_mismatch", b"GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("abs_uri_host_default_port", b"GET http://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Forward),
    ("connect_origin_form", b"CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", Expect::Reject400),
    ("websocket_without_key", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
           \r\n", Expect::Reject400),
    ("headers_100", b"GET / HTTP/1.1\r\nX-0: a\r\nX-1: a\r\nX-2: a\r\nX-3: a\r\nX-4: a\r\n\
           X-5: a\r\nX-6: a\r\nX-7: a\r\nX-8: a\r\nX-9: a\r\nX-10: a\r\nX-11: a\r\n\
           X-12: a\r\nX-13: a\r\nX-14: a\r\nX-15: a\r\nX-16: a\r\nX-17: a\r\n\
           X-18: a\r\nX-19: a\r\nX-20: a\r\nX-21: a\r\nX-22: a\r\nX-23: a\r\n\
           X-24: a\r\nX-25: a\r\nX-26: a\r\nX-27: a\r\nX-28: a\r\nX-29: a\r\n\
           X-30: a\r\nX-31: a\r\nX-32: a\r\nX-33: a\r\nX-34: a\r\nX-35: a\r\n\
           X-36: a\r\nX-37: a\r\nX-38: a\r\nX-39: a\r\nX-40: a\r\nX-41: a\r\n\
           X-42: a\r\nX-43: a\r\nX-44: a\r\nX-45: a\r\nX-46: a\r\nX-47: a\r\n\
           X-48: a\r\nX-49: a\r\nX-50: a\r\nX-51: a\r\nX-52: a\r\nX-53: a\r\n\
           X-54: a\r\nX-55: a\r\nX-56: a\r\nX-57: a\r\nX-58: a\r\nX-59: a\r\n\
           X-60: a\r\nX-61: a\r\nX-62: a\r\nX-63: a\r\nX-64: a\r\nX-65: a\r\n\
           X-66: a\r\nX-67: a\r\nX-68: a\r\nX-69: a\r\nX-70: a\r\nX-71: a\r\n\
           X-72: a\r\nX-73: a\r\nX-74: a\r\nX-75: a\r\nX-76: a\r\nX-77: a\r\n\
           X-78: a\r\nX-79: a\r\nX-80: a\r\nX-81: a\r\nX-82: a\r\nX-83: a\r\n\
           X-84: a\r\nX-85: a\r\nX-86: a\r\nX-87: a\r\nX-88: a\r\nX-89: a\r\n\
           X-90: a\r\nX-91: a\r\nX-92: a\r\nX-93: a\r\nX-94: a\r\nX-95: a\r\n\
           X-96: a\r\nX-97: a\r\nX-98: a\r\nX-99: a\r\n\r\n", Expect::Forward),
    ("headers_101", b"GET / HTTP/1.1\r\nX-0: a\r\nX-1: a\r\nX-2: a\r\nX-3: a\r\nX-4: a\r\n\
           X-5: a\r\nX-6: a\r\nX-7: a\r\nX-8: a\r\nX-9: a\r\nX-10: a\r\nX-11: a\r\n\
           X-12: a\r\nX-13: a\r\nX-14: a\r\nX-15: a\r\nX-16: a\r\nX-17: a\r\n\
           X-18: a\r\nX-19: a\r\nX-20: a\r\nX-21: a\r\nX-22: a\r\nX-23: a\r\n\
           X-24: a\r\nX-25: a\r\nX-26: a\r\nX-27: a\r\nX-28: a\r\nX-29: a\r\n\
           X-30: a\r\nX-31: a\r\nX-32: a\r\nX-33: a\r\nX-34: a\r\nX-35: a\r\n\
           X-36: a\r\nX-37: a\r\nX-38: a\r\nX-39: a\r\nX-40: a\r\nX-41: a\r\n\
           X-42: a\r\nX-43: a\r\nX-44: a\r\nX-45: a\r\nX-46: a\r\nX-47: a\r\n\
           X-48: a\r\nX-49: a\r\nX-50: a\r\nX-51: a\r\nX-52: a\r\nX-53: a\r\n\
           X-54: a\r\nX-55: a\r\nX-56: a\r\nX-57: a\r\nX-58: a\r\nX-59: a\r\n\
           X-60: a\r\nX-61: a\r\nX-62: a\r\nX-63: a\r\nX-64: a\r\nX-65: a\r\n\
           X-66: a\r\nX-67: a\r\nX-68: a\r\nX-69: a\r\nX-70: a\r\nX-71: a\r\n\
           X-72: a\r\nX-73: a\r\nX-74: a\r\nX-75: a\r\nX-76: a\r\nX-77: a\r\n\
           X-78: a\r\nX-79: a\r\nX-80: a\r\nX-81: a\r\nX-82: a\r\nX-83: a\r\n\
           X-84: a\r\nX-85: a\r\nX-86: a\r\nX-87: a\r\nX-88: a\r\nX-89: a\r\n\
           X-90: a\r\nX-91: a\r\nX-92: a\r\nX-93: a\r\nX-94: a\r\nX-95: a\r\n\
           X-96: a\r\nX-97: a\r\nX-98: a\r\nX-99: a\r\nX-100: a\r\n\r\n", Expect::Reject400),
];

/// The position `show errors` reported for each rejected case (offset from
/// the first byte of the request; body errors count from there too).
pub const HAPROXY_ERROR_POS: &[(&str, usize)] = &[
    ("te_space_before_colon", 43),
    ("te_tab_before_colon", 43),
    ("te_xchunked", 57),
    ("te_chunked_identity", 45),
    ("te_identity_chunked", 66),
    ("te_gzip_chunked", 62),
    ("te_chunked_chunked", 45),
    ("te_two_headers", 73),
    ("te_two_headers_gzip_last", 73),
    ("te_quoted", 58),
    ("te_empty", 49),
    ("te_vertical_tab", 57),
    ("te_parameter", 60),
    ("te_leading_comma", 57),
    ("te_space_in_token", 65),
    ("cl_dup_diff", 61),
    ("cl_list_diff", 42),
    ("cl_empty", 42),
    ("cl_plus_sign", 42),
    ("cl_minus_sign", 42),
    ("cl_hex", 42),
    ("cl_inner_space", 42),
    ("cl_trailing_comma", 42),
    ("cl_overflow_20_digits", 42),
    ("cl_2_pow_63", 42),
    ("te_then_invalid_cl", 70),
    ("te_then_conflicting_cl", 89),
    ("cl_space_before_colon", 40),
    ("bare_cr_in_value", 32),
    ("bare_cr_request_line", 15),
    ("nul_in_header_name", 27),
    ("nul_in_uri", 5),
    ("ctl_in_header_name", 27),
    ("space_in_header_name", 26),
    ("empty_header_name", 25),
    ("header_without_colon", 28),
    ("obs_fold_first_header", 16),
    ("chunk_size_overflow", 69),
    ("chunk_size_2_pow_52", 69),
    ("chunk_space_before_size", 56),
    ("chunk_0x_prefix", 57),
    ("chunk_negative", 56),
    ("chunk_data_too_long", 64),
    ("chunk_cr_without_lf", 65),
    ("chunk_size_junk", 57),
    ("chunk_empty_size", 56),
    ("chunk_ext_bare_cr", 60),
    ("trailer_bad_name", 56),
    ("trailer_no_colon", 56),
    ("leading_space", 0),
    ("http09_request", 5),
    ("version_lowercase", 6),
    ("version_1_10", 6),
    ("uri_space", 7),
    ("uri_hash", 6),
    ("uri_8bit", 5),
    ("uri_del", 5),
    ("method_bad_char", 1),
    ("dup_host_diff", 31),
    ("abs_uri_host_mismatch", 30),
    ("connect_origin_form", 8),
    ("websocket_without_key", 68),
    ("headers_101", 918),
];
