//! HTTP/1 (sans-IO): `parse` finds and parses a message head (start line,
//! header index, body framing) the way HAProxy 2.6 accepts or rejects it,
//! `chunk` walks a chunked body, and `corpus` holds the request-smuggling
//! cases checked against HAProxy 2.6 (reused by the integration tests).

pub mod chunk;
pub mod corpus;
pub mod framing;
pub mod parse;
