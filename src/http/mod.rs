//! HTTP/1.x: the sans-IO message parser (`parse`, `framing`, `chunk`; the
//! request-smuggling cases checked against HAProxy 2.6 in `corpus`), and the
//! analysers that
//! run it over a stream's channels (`ana` for requests, `ana_res` for
//! responses), with the proxy's own replies (`reply`, `errors`,
//! `redirect`), the header actions (`rules`, `hdr`), the transaction state
//! (`txn`) and its log line (`log`).
//!
//! Messages are parsed in place in the channel buffer and forwarded as
//! they came (no re-encoding): only the headers an action or the
//! connection mode changes are rewritten, by shifting bytes in the buffer.

pub mod ana;
pub mod ana_res;
pub mod body;
pub mod chunk;
pub mod corpus;
pub mod errors;
pub mod framing;
pub mod hdr;
pub mod head_norm;
pub mod htx_size;
pub mod log;
pub mod normalize;
pub mod parse;
pub mod redirect;
pub mod reply;
pub mod rules;
pub mod txn;

/// Scratch space the analysers share (one per engine): the header table
/// of the head being analysed and a reply being built, so that no request
/// allocates.
pub struct HttpScratch {
    pub hdrs: hdr::HdrTable,
    pub reply: Vec<u8>,
    /// `tune.http.maxhdr`.
    pub maxhdr: usize,
    /// Idle server connections in all pools, and the most kept: a quarter
    /// of the file descriptors (HAProxy closes idle connections rather than
    /// keep them past `tune.pool-high-fd-ratio`, 25 %).
    pub idle_total: usize,
    pub idle_cap: usize,
    /// Released transactions, reused by the next HTTP streams (no
    /// allocation per request once warm).
    pub txn_pool: Vec<Box<txn::HttpTxn>>,
}

impl HttpScratch {
    /// Scratch for heads of at most `maxhdr` headers.
    pub fn new(maxhdr: usize) -> Self {
        HttpScratch {
            hdrs: hdr::HdrTable::with_capacity(maxhdr + 1),
            reply: Vec::with_capacity(1024),
            maxhdr,
            idle_total: 0,
            idle_cap: usize::MAX,
            txn_pool: Vec::new(),
        }
    }

    /// A transaction for a new stream, from the pool when one is there:
    /// its times count from `since`; `first` when it is its connection's
    /// first (a resumed keep-alive connection's is not).
    pub fn new_txn(&mut self, since: u64, first: bool) -> Box<txn::HttpTxn> {
        let mut txn = self.txn_pool.pop().unwrap_or_default();
        txn.reset(since);
        txn.req_base = 0;
        txn.res_base = 0;
        if first {
            txn.flags = txn::TxnFlags::empty();
        }
        txn
    }
}

/// HTTP counters of a proxy or server (`show stat` columns hrsp_1xx ..
/// hrsp_other, req_tot, intercepted, ...).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpStats {
    /// Responses by class: 1xx, 2xx, 3xx, 4xx, 5xx, other.
    pub hrsp: [u64; 6],
    pub req_tot: u64,
    pub failed_req: u64,
    pub failed_resp: u64,
    pub denied_resp: u64,
    pub intercepted: u64,
}

impl HttpStats {
    /// Counts a response of status class `class` (status / 100).
    pub fn count_status(&mut self, class: usize) {
        let i = if (1..=5).contains(&class) {
            class - 1
        } else {
            5
        };
        if let Some(c) = self.hrsp.get_mut(i) {
            *c += 1;
        }
    }
}
