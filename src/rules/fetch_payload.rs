//! Payload sample fetches (configuration.txt 7.3.5): the bytes received
//! and not yet forwarded, read during `tcp-request content` /
//! `tcp-response content` inspection.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::Dir;
use super::expr::{FetchDef, Use};
use super::fetch::def;
use super::sample::{Sample, SmpFlags, SmpType as T};

#[rustfmt::skip]
pub const PAYLOAD: &[FetchDef] = &[
    def("req.len", &[], 0, T::Sint, |_, e, _| len(e.payload(Dir::Req)?, e.payload_final(Dir::Req)), Use::REQ),
    def("req_len", &[], 0, T::Sint, |_, e, _| len(e.payload(Dir::Req)?, e.payload_final(Dir::Req)), Use::REQ),
    def("res.len", &[], 0, T::Sint, |_, e, _| len(e.payload(Dir::Res)?, e.payload_final(Dir::Res)), Use::RES),
    def("wait_end", &[], 0, T::Bool, |_, e, cx| {
        // True only once the inspect delay expired: until then the rule waits.
        if e.inspect_expired() {
            Some(Sample::bool(true))
        } else {
            cx.may_change = true;
            None
        }
    }, Use::CONST),
];

fn len(data: &[u8], fin: bool) -> Option<Sample<'static>> {
    let mut s = Sample::sint(data.len() as i64);
    if !fin {
        s.flags |= SmpFlags::MAY_CHANGE;
    }
    Some(s)
}
