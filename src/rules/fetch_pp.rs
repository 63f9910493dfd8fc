//! PROXY protocol fetches (configuration.txt 7.3.3): what the header the
//! client connection started with carried, read through `Env::pp`.
//!
//! `fc_rcvd_proxy`, `fc_pp_authority` and `fc_pp_unique_id` are HAProxy
//! 2.6's. `fc_pp_tlv(<id>)` appeared in HAProxy 2.9; it is provided here
//! with 2.9's meaning (the first TLV of that type, any type 0-255 or a
//! name), and a 2.6 configuration never uses it.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::conn::proxy_hdr::pp2;
use crate::rules::expr::{Arg, ArgKind as K, FetchDef, ParseCx, Use};
use crate::rules::fetch::def;
use crate::rules::sample::{Sample, SmpType as T};

#[rustfmt::skip]
pub const PP: &[FetchDef] = &[
    def("fc_rcvd_proxy", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.pp().is_some())), Use::L4),
    // 2.6 keeps the last AUTHORITY / UNIQUE_ID of the header.
    def("fc_pp_authority", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.pp()?.last(pp2::AUTHORITY)?)), Use::L4),
    def("fc_pp_unique_id", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.pp()?.last(pp2::UNIQUE_ID)?)), Use::L4),
    FetchDef {
        check: Some(check_tlv_id),
        ..def("fc_pp_tlv", &[K::Str], 1, T::Str, |a, e, _| {
            let Some(Arg::Sint(id)) = a.first() else { return None };
            Some(Sample::str_ref(e.pp()?.first(u8::try_from(*id).ok()?)?))
        }, Use::L4)
    },
];

/// The TLV names `fc_pp_tlv` takes (HAProxy 2.9's list).
const TLV_NAMES: &[(&str, u8)] = &[
    ("ALPN", pp2::ALPN),
    ("AUTHORITY", pp2::AUTHORITY),
    ("CRC32C", pp2::CRC32C),
    ("NETNS", pp2::NETNS),
    ("NOOP", pp2::NOOP),
    ("UNIQUE_ID", pp2::UNIQUE_ID),
];

/// Turns `fc_pp_tlv`'s argument into the type number: a name of
/// [`TLV_NAMES`], or a number 0-255 read as `strtol(.., 0)` reads it
/// (`0x` hexadecimal, a leading `0` octal).
fn check_tlv_id(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    let Some(Arg::Str(s)) = args.first() else {
        return Err("missing TLV ID".into());
    };
    let id = TLV_NAMES
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, id)| i64::from(*id))
        .or_else(|| parse_c_number(s))
        .filter(|id| (0..=255).contains(id))
        .ok_or_else(|| {
            format!(
                "invalid TLV ID '{s}' (expects a number from 0 to 255 or one of ALPN, AUTHORITY, CRC32C, NETNS, NOOP, UNIQUE_ID)"
            )
        })?;
    *args = vec![Arg::Sint(id)];
    Ok(())
}

/// A whole-string number in C's base-0 notation.
fn parse_c_number(s: &str) -> Option<i64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    if s.len() > 1 && s.starts_with('0') {
        return i64::from_str_radix(s.get(1..)?, 8).ok();
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_ids_as_strtol_reads_them() {
        assert_eq!(parse_c_number("5"), Some(5));
        assert_eq!(parse_c_number("0xE1"), Some(0xe1));
        assert_eq!(parse_c_number("010"), Some(8));
        assert_eq!(parse_c_number("0"), Some(0));
        assert_eq!(parse_c_number("x"), None);
        assert_eq!(parse_c_number("0x"), None);
    }
}
