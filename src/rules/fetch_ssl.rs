//! TLS session fetches (configuration.txt 7.3.4): what the client
//! connection (`ssl_fc*`, `ssl_c*` for its certificate, `ssl_f*` for ours)
//! and the server connection (`ssl_bc*`) negotiated. They read the session
//! through `Env::ssl`; a clear connection gives no sample (`ssl_fc`,
//! `ssl_bc`: false).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::rules::env::Env;
use crate::rules::expr::{Arg, ArgKind as K, EvalCx, FetchDef, Use};
use crate::rules::fetch::def;
use crate::rules::sample::{Sample, SmpType as T};
use openssl::ssl::SslRef;
use openssl::x509::{X509NameRef, X509Ref};

type F = for<'a> fn(&[Arg], &'a dyn Env, &mut EvalCx<'_>) -> Option<Sample<'a>>;

const DN: &[K] = &[K::Str, K::Sint, K::Str];

#[rustfmt::skip]
pub const SSL: &[FetchDef] = &[
    def("ssl_fc", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.ssl(false).is_some())), Use::L4),
    def("ssl_bc", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.ssl(true).is_some())), Use::BE),
    def("ssl_fc_protocol", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.ssl(false)?.version_str().as_bytes())), Use::L4),
    def("ssl_bc_protocol", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.ssl(true)?.version_str().as_bytes())), Use::BE),
    def("ssl_fc_cipher", &[], 0, T::Str, |_, e, _| cipher(e.ssl(false)?), Use::L4),
    def("ssl_bc_cipher", &[], 0, T::Str, |_, e, _| cipher(e.ssl(true)?), Use::BE),
    def("ssl_fc_sni", &[], 0, T::Str, fc_sni as F, Use::L4),
    def("ssl_fc_has_sni", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.ssl(false)?.servername(openssl::ssl::NameType::HOST_NAME).is_some())), Use::L4),
    def("ssl_fc_alpn", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.ssl(false)?.selected_alpn_protocol()?)), Use::L4),
    def("ssl_bc_alpn", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.ssl(true)?.selected_alpn_protocol()?)), Use::BE),
    def("ssl_fc_is_resumed", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.ssl(false)?.session_reused())), Use::L4),
    def("ssl_bc_is_resumed", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.ssl(true)?.session_reused())), Use::BE),
    def("ssl_fc_session_id", &[], 0, T::Bin, |_, e, _| Some(Sample::bin_ref(e.ssl(false)?.session()?.id())), Use::L4),
    def("ssl_bc_session_id", &[], 0, T::Bin, |_, e, _| Some(Sample::bin_ref(e.ssl(true)?.session()?.id())), Use::BE),
    def("ssl_fc_use_keysize", &[], 0, T::Sint, |_, e, _| bits(e.ssl(false)?, false), Use::L4),
    def("ssl_bc_use_keysize", &[], 0, T::Sint, |_, e, _| bits(e.ssl(true)?, false), Use::BE),
    def("ssl_fc_alg_keysize", &[], 0, T::Sint, |_, e, _| bits(e.ssl(false)?, true), Use::L4),
    def("ssl_bc_alg_keysize", &[], 0, T::Sint, |_, e, _| bits(e.ssl(true)?, true), Use::BE),
    // Early data is served once the handshake is done: never still early.
    def("ssl_fc_has_early", &[], 0, T::Bool, |_, e, _| e.ssl(false).map(|_| Sample::bool(false)), Use::L4),
    def("ssl_fc_has_crt", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.ssl(false)?.peer_certificate().is_some())), Use::L4),
    def("ssl_c_used", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.ssl(false)?.peer_certificate().is_some())), Use::L4),
    def("ssl_c_verify", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(i64::from(e.ssl(false)?.verify_result().as_raw()))), Use::L4),
    // Verification errors (kept when `*-ignore-err` let them through, or
    // for the error log of the failed handshake).
    def("ssl_c_err", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(e.ssl_sock(false)?.diag.c_err)), Use::L4),
    def("ssl_c_ca_err", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(e.ssl_sock(false)?.diag.ca_err)), Use::L4),
    def("ssl_fc_err", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(e.ssl_sock(false)?.diag.ssl_err as i64)), Use::L4),
    def("ssl_fc_err_str", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.ssl_sock(false)?.diag.ssl_err_str.as_deref()?.as_bytes())), Use::L4),
    def("fc_err", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(e.conn_err().map_or(0, |x| x.id()))), Use::L4),
    def("fc_err_str", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.conn_err().map_or("Success", |x| x.message()).as_bytes())), Use::L4),
    def("ssl_c_s_dn", DN, 0, T::Str, |a, e, cx| dn(a, cx, peer(e)?.subject_name()), Use::L4),
    def("ssl_c_i_dn", DN, 0, T::Str, |a, e, cx| dn(a, cx, peer(e)?.issuer_name()), Use::L4),
    def("ssl_f_s_dn", DN, 0, T::Str, |a, e, cx| dn(a, cx, e.ssl(false)?.certificate()?.subject_name()), Use::L4),
    def("ssl_f_i_dn", DN, 0, T::Str, |a, e, cx| dn(a, cx, e.ssl(false)?.certificate()?.issuer_name()), Use::L4),
    def("ssl_c_serial", &[], 0, T::Bin, |_, e, cx| { let c = peer(e)?; serial(&c, cx) }, Use::L4),
    def("ssl_f_serial", &[], 0, T::Bin, |_, e, cx| serial(e.ssl(false)?.certificate()?, cx), Use::L4),
    def("ssl_c_notafter", &[], 0, T::Str, |_, e, cx| time(peer(e)?.not_after(), cx), Use::L4),
    def("ssl_c_notbefore", &[], 0, T::Str, |_, e, cx| time(peer(e)?.not_before(), cx), Use::L4),
    def("ssl_f_notafter", &[], 0, T::Str, |_, e, cx| time(e.ssl(false)?.certificate()?.not_after(), cx), Use::L4),
    def("ssl_f_notbefore", &[], 0, T::Str, |_, e, cx| time(e.ssl(false)?.certificate()?.not_before(), cx), Use::L4),
    def("ssl_c_version", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(i64::from(peer(e)?.version()) + 1)), Use::L4),
    def("ssl_f_version", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(i64::from(e.ssl(false)?.certificate()?.version()) + 1)), Use::L4),
    def("ssl_c_der", &[], 0, T::Bin, |_, e, _| Some(Sample::bin_own(peer(e)?.to_der().ok()?)), Use::L4),
    def("ssl_c_sha1", &[], 0, T::Bin, |_, e, _| Some(Sample::bin_own(peer(e)?.digest(openssl::hash::MessageDigest::sha1()).ok()?.to_vec())), Use::L4),
];

/// The client's certificate.
fn peer(e: &dyn Env) -> Option<openssl::x509::X509> {
    e.ssl(false)?.peer_certificate()
}

fn fc_sni<'a>(_: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let name = e
        .ssl(false)?
        .servername_raw(openssl::ssl::NameType::HOST_NAME)?;
    Some(Sample::str_ref(name))
}

fn cipher(ssl: &SslRef) -> Option<Sample<'_>> {
    Some(Sample::str_ref(ssl.current_cipher()?.name().as_bytes()))
}

fn bits(ssl: &SslRef, alg: bool) -> Option<Sample<'static>> {
    let b = ssl.current_cipher()?.bits();
    Some(Sample::sint(i64::from(if alg {
        b.algorithm
    } else {
        b.secret
    })))
}

fn serial<'a>(c: &X509Ref, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let bn = c.serial_number().to_bn().ok()?;
    let mut v = cx.pool.get();
    v.extend_from_slice(&bn.to_vec());
    Some(Sample::bin_own(v))
}

/// An ASN.1 time as the certificate stores it (`YYMMDDhhmmssZ`).
fn time<'a>(t: &openssl::asn1::Asn1TimeRef, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let raw = crate::ssl::asn1_time_raw(t)?;
    let mut v = cx.pool.get();
    v.extend_from_slice(raw);
    Some(Sample::str_own(v))
}

/// A distinguished name: whole (`/C=../CN=..`, or RFC 2253 with
/// `rfc2253`), or the value of one entry (`CN`; occurrence 1 = first,
/// -1 = last; default first).
fn dn<'a>(args: &[Arg], cx: &mut EvalCx<'_>, name: &X509NameRef) -> Option<Sample<'a>> {
    let field = match args.first() {
        Some(Arg::Str(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    };
    let occ = match args.get(1) {
        Some(Arg::Sint(n)) => *n,
        _ => 1,
    };
    let rfc = matches!(args.get(2), Some(Arg::Str(s)) if s == "rfc2253");
    let entries: Vec<(&str, String)> = name
        .entries()
        .map(|e| {
            let sn = e.object().nid().short_name().unwrap_or("UNDEF");
            let val = e.data().to_string().unwrap_or_default();
            (sn, val)
        })
        .collect();
    let mut v = cx.pool.get();
    match field {
        Some(f) => {
            let hits: Vec<&String> = entries
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(f))
                .map(|(_, v)| v)
                .collect();
            let pick = if occ > 0 {
                hits.get(usize::try_from(occ - 1).ok()?)
            } else if occ < 0 {
                hits.len()
                    .checked_sub(usize::try_from(-occ).ok()?)
                    .and_then(|i| hits.get(i))
            } else {
                None
            }?;
            v.extend_from_slice(pick.as_bytes());
        }
        None if rfc => {
            for (i, (k, val)) in entries.iter().rev().enumerate() {
                if i > 0 {
                    v.push(b',');
                }
                v.extend_from_slice(k.as_bytes());
                v.push(b'=');
                v.extend_from_slice(val.as_bytes());
            }
        }
        None => {
            for (k, val) in &entries {
                v.push(b'/');
                v.extend_from_slice(k.as_bytes());
                v.push(b'=');
                v.extend_from_slice(val.as_bytes());
            }
        }
    }
    Some(Sample::str_own(v))
}
