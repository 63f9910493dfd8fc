//! Ring buffers and the buffer pool.
//!
//! A `Buffer` is a fixed-size ring (`tune.bufsize`, 16 KiB by default) holding
//! the bytes in flight in one channel. Its data has two parts: the *output*
//! (the oldest bytes, scheduled for forwarding: the consumer may send them)
//! and the *input* (bytes still to be analysed: only the stream's analysers
//! look at them, until `advance` schedules them). Reads append input; sends
//! consume output.
//!
//! ```text
//!   area: [....head|==output==|--input--|tail.......]     (or wrapped)
//!              <------- len -------->
//! ```
//!
//! Buffers come from the `BufPool` when data arrives and go back when the
//! channel is empty, so idle connections hold none. A new buffer's memory is
//! not written until data lands in it (the area is initialised up to a
//! high-water mark), so a connection holding a 30-byte partial request costs
//! one page of resident memory, not the whole buffer, as with HAProxy's
//! malloc'd buffers. A request head still incomplete after a read waits in a
//! small buffer (`BufPool::shrink`, 1 KiB) until its next read. When a buffer empties
//! its head goes back to 0 so the next read gets the whole area in one
//! contiguous piece.

pub mod pipe;

/// A ring buffer split into output (to send) and input (to analyse).
pub struct Buffer {
    /// The storage: capacity `size`; its length is the high-water mark of
    /// the bytes ever written (initialised memory). Stored bytes always lie
    /// below it.
    area: Vec<u8>,
    size: usize,
    head: usize,
    len: usize,
    /// Bytes at the head scheduled for forwarding (`out <= len`).
    out: usize,
    /// Changes whenever the input's existing bytes or its start change
    /// (not when bytes are appended): a parse of the input made at one
    /// value still holds while it does (see `http::hdr::HdrTable`).
    generation: u64,
}

/// Source of buffer generations: unique across all buffers, so that a
/// buffer coming back from the pool never repeats a value.
static GEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Buffer {
    /// A new empty buffer of `size` bytes.
    pub fn new(size: usize) -> Self {
        Buffer {
            area: Vec::with_capacity(size),
            size,
            head: 0,
            len: 0,
            out: 0,
            generation: 0,
        }
    }

    /// Capacity in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes stored (output and input).
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no byte is stored.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes scheduled for forwarding.
    #[inline]
    pub fn output(&self) -> usize {
        self.out
    }

    /// Bytes not yet scheduled (still to analyse).
    #[inline]
    pub fn input(&self) -> usize {
        self.len - self.out
    }

    /// Free room in bytes.
    #[inline]
    pub fn room(&self) -> usize {
        self.size - self.len
    }

    /// The `n` bytes from offset `from` (relative to the head) as up to two
    /// slices. Precondition: `from + n <= len`.
    fn span(&self, from: usize, n: usize) -> (&[u8], &[u8]) {
        let cap = self.size;
        if n == 0 || cap == 0 {
            return (&[], &[]);
        }
        let start = (self.head + from) % cap;
        let end = start + n;
        if end <= cap {
            (&self.area[start..end], &[])
        } else {
            (&self.area[start..], &self.area[..end - cap])
        }
    }

    /// Every stored byte as up to two slices (oldest first).
    pub fn data(&self) -> (&[u8], &[u8]) {
        self.span(0, self.len)
    }

    /// The output bytes as up to two slices (what a send may take).
    #[inline]
    pub fn out_data(&self) -> (&[u8], &[u8]) {
        self.span(0, self.out)
    }

    /// The input bytes as up to two slices (what analysers look at).
    pub fn in_data(&self) -> (&[u8], &[u8]) {
        self.span(self.out, self.len - self.out)
    }

    /// Zero-fills the area up to `end` where it was never written, so that
    /// safe code may write there. Only the pages about to be written are
    /// touched.
    fn init_to(&mut self, end: usize) {
        let end = end.min(self.size);
        if self.area.len() < end {
            self.area.resize(end, 0);
        }
    }

    /// The free area as up to two (offset, length) ranges of the area, the
    /// first one right after the data.
    pub fn free_ranges(&mut self) -> [(usize, usize); 2] {
        let cap = self.size;
        if self.len == 0 {
            self.head = 0;
        }
        if self.len == cap || cap == 0 {
            return [(0, 0), (0, 0)];
        }
        let tail = (self.head + self.len) % cap;
        if tail >= self.head {
            [(tail, cap - tail), (0, self.head)]
        } else {
            [(tail, self.head - tail), (0, 0)]
        }
    }

    /// The start of the area, for a data layer that writes the free ranges
    /// with a system call (the memory past the high-water mark is not
    /// initialised: only raw writes may go there).
    pub fn area_ptr(&mut self) -> *mut u8 {
        self.area.as_mut_ptr()
    }

    /// Records that `n` bytes were written into the free ranges (as input).
    ///
    /// # Safety
    /// The first `n` bytes of the free ranges (in order) were written, e.g.
    /// by `recv` through `area_ptr`.
    #[inline]
    pub unsafe fn commit(&mut self, n: usize) {
        debug_assert!(n <= self.room());
        let n = n.min(self.room());
        let tail = (self.head + self.len) % self.size.max(1);
        let end = (tail + n).min(self.size);
        if end > self.area.len() && end <= self.area.capacity() {
            // SAFETY: [area.len(), end) lies in the free range right after
            // the data, which the caller says was written; stored bytes
            // below the old length were initialised before.
            unsafe { self.area.set_len(end) };
        }
        self.len += n;
    }

    /// The input's generation (see the field).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    #[inline]
    fn changed(&mut self) {
        self.generation = GEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Schedules `n` input bytes for forwarding (they become output).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.input());
        if n > 0 {
            self.changed();
        }
        self.out += n.min(self.input());
    }

    /// Turns the whole output back into input (nothing of it was sent);
    /// returns how many bytes, to [`Buffer::advance`] again.
    pub fn unschedule(&mut self) -> usize {
        let n = self.out;
        if n > 0 {
            self.changed();
            self.out = 0;
        }
        n
    }

    /// Removes `n` output bytes from the front (they were sent).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.out);
        let n = n.min(self.out);
        self.len -= n;
        self.out -= n;
        if self.len == 0 {
            self.head = 0;
        } else {
            self.head = (self.head + n) % self.size;
        }
    }

    /// Removes `n` input bytes from the front of the input (an analyser
    /// consumed them, e.g. an applet reading its request). Precondition: no
    /// output is pending.
    pub fn consume_input(&mut self, n: usize) {
        debug_assert!(self.out == 0);
        let n = n.min(self.input());
        self.changed();
        self.out += n;
        self.consume(n);
    }

    /// Appends as much of `src` as fits (as input); returns the count copied.
    pub fn put(&mut self, src: &[u8]) -> usize {
        let mut done = 0;
        for (off, room) in self.free_ranges() {
            let n = room.min(src.len() - done);
            if n == 0 {
                continue;
            }
            self.init_to(off + n);
            self.area[off..off + n].copy_from_slice(&src[done..done + n]);
            done += n;
        }
        // The bytes were written (and initialised) above.
        self.len += done;
        done
    }

    /// Makes the stored bytes one contiguous run starting at the area's
    /// start (HAProxy's `b_slow_realign`). Only analysers that parse input
    /// in place need it, and only when the data wraps: a cost paid rarely.
    pub fn realign(&mut self) {
        if self.head != 0 {
            // Stored bytes lie below the high-water mark: rotating the
            // initialised part is enough.
            if self.head + self.len > self.size {
                self.init_to(self.size);
            }
            self.area.rotate_left(self.head);
            self.head = 0;
        }
    }

    /// The input as one contiguous slice, realigning first if it wraps.
    pub fn in_contig(&mut self) -> &[u8] {
        if self.head + self.len > self.size {
            self.realign();
        }
        let start = self.head + self.out;
        self.area.get(start..self.head + self.len).unwrap_or(&[])
    }

    /// The input as one contiguous mutable slice (realigning if it wraps).
    pub fn in_contig_mut(&mut self) -> &mut [u8] {
        self.changed();
        if self.head + self.len > self.size {
            self.realign();
        }
        let start = self.head + self.out;
        let end = self.head + self.len;
        self.area.get_mut(start..end).unwrap_or(&mut [])
    }

    /// Replaces `del` input bytes at offset `off` of the input by `ins`,
    /// shifting what follows (header rewriting in place, HAProxy's
    /// `b_rep_blk`). Returns false, changing nothing, when the result would
    /// not fit or the range is outside the input.
    pub fn replace_input(&mut self, off: usize, del: usize, ins: &[u8]) -> bool {
        let input = self.input();
        if off.checked_add(del).is_none_or(|e| e > input) {
            return false;
        }
        let new_len = self.len - del + ins.len();
        if new_len > self.size {
            return false;
        }
        self.changed();
        if self.head + self.len > self.size || self.head + new_len > self.size {
            self.realign();
        }
        let at = self.head + self.out + off;
        let tail_from = at + del;
        let tail_end = self.head + self.len;
        self.init_to(self.head + new_len);
        self.area.copy_within(tail_from..tail_end, at + ins.len());
        self.area[at..at + ins.len()].copy_from_slice(ins);
        self.len = new_len;
        true
    }

    /// Keeps the first `out` bytes of the output, drops the rest of it and
    /// the input (what an analyser scheduled before it found an error).
    pub fn truncate_output(&mut self, out: usize) {
        self.out = self.out.min(out);
        self.drop_input();
    }

    /// Drops the input (bytes not scheduled), keeping the output.
    pub fn drop_input(&mut self) {
        self.changed();
        self.len = self.out;
        if self.len == 0 {
            self.head = 0;
        }
    }

    /// Fills this empty buffer with `src`'s bytes, output and input alike;
    /// a parse of the input must start over (new generation).
    fn copy_from(&mut self, src: &Buffer) {
        let (x, y) = src.data();
        self.put(x);
        self.put(y);
        self.out = src.out.min(self.len);
        self.changed();
    }

    /// Empties the buffer.
    pub fn reset(&mut self) {
        self.changed();
        self.head = 0;
        self.len = 0;
        self.out = 0;
    }
}

/// Size of the small buffers a partial request head waits in
/// ([`BufPool::shrink`]).
pub const SMALL_BUF: usize = 1024;

/// A pool of buffers of `tune.bufsize` bytes, plus small ones for partial
/// request heads. `alloc` reuses a released buffer if any.
pub struct BufPool {
    size: usize,
    free: Vec<Buffer>,
    /// Released small buffers ([`SMALL_BUF`]).
    small: Vec<Buffer>,
    /// Buffers currently handed out.
    pub used: usize,
    /// Free buffers kept at most (the rest are returned to the allocator).
    keep: usize,
}

impl BufPool {
    /// A pool of `size`-byte buffers keeping at most `keep` idle ones.
    pub fn new(size: usize, keep: usize) -> Self {
        BufPool {
            size,
            free: Vec::new(),
            small: Vec::new(),
            used: 0,
            keep,
        }
    }

    /// Buffer size of this pool.
    pub fn buf_size(&self) -> usize {
        self.size
    }

    /// Takes an empty buffer.
    #[inline]
    pub fn alloc(&mut self) -> Buffer {
        self.used += 1;
        match self.free.pop() {
            Some(b) => b,
            None => Buffer::new(self.size),
        }
    }

    /// Gives a buffer back (its contents are dropped).
    #[inline]
    pub fn release(&mut self, mut b: Buffer) {
        self.used = self.used.saturating_sub(1);
        let free = if b.size == self.size {
            &mut self.free
        } else {
            &mut self.small
        };
        if free.len() < self.keep {
            b.reset();
            free.push(b);
        }
    }

    /// True when `b` is one of the small buffers.
    #[inline]
    pub fn is_small(&self, b: &Buffer) -> bool {
        b.size < self.size
    }

    /// Moves a partial request head (input only, at most [`SMALL_BUF`]
    /// bytes) out of its full-size buffer into a small one, which gives the
    /// full-size one back: a slow client then holds 1 KiB while it sends,
    /// not the touched pages of a 16 KiB buffer. Does nothing otherwise.
    /// [`BufPool::grow`] undoes it before the next read.
    pub fn shrink(&mut self, b: &mut Buffer) {
        if self.is_small(b) || b.out > 0 || b.len > SMALL_BUF || SMALL_BUF >= self.size {
            return;
        }
        let small = self.small.pop().unwrap_or_else(|| Buffer::new(SMALL_BUF));
        let big = std::mem::replace(b, small);
        b.copy_from(&big);
        self.release(big);
        self.used += 1;
    }

    /// Gives a small buffer's bytes a full-size buffer again (before a
    /// read or a write into it). Does nothing to a full-size buffer.
    pub fn grow(&mut self, b: &mut Buffer) {
        if !self.is_small(b) {
            return;
        }
        let big = self.free.pop().unwrap_or_else(|| Buffer::new(self.size));
        let small = std::mem::replace(b, big);
        b.copy_from(&small);
        self.release(small);
        self.used += 1;
    }

    /// Idle buffers held by the pool.
    pub fn free_count(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(b: &Buffer) -> Vec<u8> {
        let (x, y) = b.data();
        [x, y].concat()
    }

    fn cat((x, y): (&[u8], &[u8])) -> Vec<u8> {
        [x, y].concat()
    }

    #[test]
    fn fill_consume_wrap() {
        let mut b = Buffer::new(8);
        assert_eq!(b.put(b"abcdef"), 6);
        b.advance(6);
        b.consume(4);
        assert_eq!(contents(&b), b"ef");
        // free area: 2 bytes at the end, 4 at the start
        let [x, y] = b.free_ranges();
        assert_eq!((x.1, y.1), (2, 4));
        assert_eq!(b.put(b"ghijklm"), 6);
        assert_eq!(b.room(), 0);
        assert_eq!(contents(&b), b"efghijkl");
        let (x, y) = b.data();
        assert_eq!((x, y), (&b"efgh"[..], &b"ijkl"[..]));
        b.advance(6);
        b.consume(8);
        assert!(b.is_empty());
        // empty resets head: whole area contiguous again
        let [x, y] = b.free_ranges();
        assert_eq!((x.1, y.1), (8, 0));
    }

    #[test]
    fn partial_head_waits_in_a_small_buffer() {
        let mut pool = BufPool::new(4096, 8);
        let mut b = pool.alloc();
        b.put(b"GET / HTTP/1.1\r\nHost");
        let g = b.generation();
        pool.shrink(&mut b);
        assert!(pool.is_small(&b));
        assert_eq!(b.size(), SMALL_BUF);
        assert_eq!(cat(b.data()), b"GET / HTTP/1.1\r\nHost");
        assert_ne!(b.generation(), g, "a parse must start over");
        assert_eq!((pool.used, pool.free_count()), (1, 1));
        pool.grow(&mut b);
        assert!(!pool.is_small(&b));
        assert_eq!(b.size(), 4096);
        assert_eq!(cat(b.data()), b"GET / HTTP/1.1\r\nHost");
        assert_eq!(b.input(), b.len());
        pool.release(b);
        assert_eq!(pool.used, 0);
    }

    #[test]
    fn shrink_leaves_output_and_big_heads_alone() {
        let mut pool = BufPool::new(4096, 8);
        let mut b = pool.alloc();
        b.put(b"abc");
        b.advance(1);
        pool.shrink(&mut b);
        assert!(!pool.is_small(&b), "output pending");
        let mut c = pool.alloc();
        c.put(&[b'x'; SMALL_BUF + 1]);
        pool.shrink(&mut c);
        assert!(!pool.is_small(&c), "does not fit");
    }

    #[test]
    fn free_area_inside_wrapped_data() {
        let mut b = Buffer::new(8);
        b.put(b"12345678");
        b.advance(8);
        b.consume(6);
        b.put(b"abc"); // data: "78" + "abc" wrapped, tail at 3, head at 6
        let [x, y] = b.free_ranges();
        assert_eq!((x.1, y.1), (3, 0));
        assert_eq!(contents(&b), b"78abc");
    }

    #[test]
    fn input_stays_out_of_reach_of_senders_until_advanced() {
        let mut b = Buffer::new(8);
        b.put(b"GET /");
        assert_eq!((b.output(), b.input()), (0, 5));
        assert_eq!(cat(b.out_data()), b"");
        assert_eq!(cat(b.in_data()), b"GET /");
        b.advance(3);
        assert_eq!(cat(b.out_data()), b"GET");
        assert_eq!(cat(b.in_data()), b" /");
        // Sending the output leaves the input in place.
        b.consume(3);
        assert_eq!((b.output(), b.input()), (0, 2));
        assert_eq!(cat(b.in_data()), b" /");
    }

    #[test]
    fn split_survives_wrapping() {
        let mut b = Buffer::new(8);
        b.put(b"123456");
        b.advance(6);
        b.consume(5); // head at 5: "6"
        b.put(b"abcdef"); // wraps: "6abcdef", "6" still output
        b.advance(2); // output "6ab", input "cdef"
        assert_eq!(cat(b.out_data()), b"6ab");
        assert_eq!(cat(b.in_data()), b"cdef");
        let (x, y) = b.in_data();
        assert_eq!(x.len() + y.len(), 4);
        b.consume(3);
        assert_eq!(cat(b.in_data()), b"cdef");
        assert_eq!(b.output(), 0);
    }

    #[test]
    fn consume_input_takes_from_the_front() {
        let mut b = Buffer::new(16);
        b.put(b"show info\nhelp\n");
        b.consume_input(10);
        assert_eq!(cat(b.in_data()), b"help\n");
        b.consume_input(99);
        assert!(b.is_empty());
    }

    #[test]
    fn realign_makes_wrapped_input_contiguous() {
        let mut b = Buffer::new(8);
        b.put(b"123456");
        b.advance(6);
        b.consume(5);
        b.put(b"abcdef"); // "6" output, "abcdef" input, wrapped
        assert_eq!(b.in_contig(), b"abcdef");
        assert_eq!(cat(b.out_data()), b"6");
        b.in_contig_mut()[0] = b'A';
        assert_eq!(cat(b.in_data()), b"Abcdef");
    }

    #[test]
    fn replace_input_grows_shrinks_and_refuses_overflow() {
        let mut b = Buffer::new(32);
        b.put(b"ab");
        b.advance(2);
        b.put(b"Host: x\r\n");
        assert!(b.replace_input(6, 1, b"example"));
        assert_eq!(cat(b.in_data()), b"Host: example\r\n");
        assert_eq!(cat(b.out_data()), b"ab");
        assert!(b.replace_input(0, 6, b""));
        assert_eq!(cat(b.in_data()), b"example\r\n");
        assert!(!b.replace_input(0, 0, &[b'x'; 30]));
        assert!(!b.replace_input(5, 9, b""));
        assert_eq!(cat(b.in_data()), b"example\r\n");
        // Wrapped data is realigned before the shift.
        let mut w = Buffer::new(8);
        w.put(b"123456");
        w.advance(6);
        w.consume(6);
        w.put(b"abcd");
        w.advance(1);
        w.consume(1);
        w.put(b"efg");
        assert!(w.replace_input(1, 1, b"XY"));
        assert_eq!(cat(w.in_data()), b"bXYdefg");
    }

    #[test]
    fn a_new_buffer_is_initialised_only_where_written() {
        let mut b = Buffer::new(1 << 16);
        assert_eq!(b.area.len(), 0);
        b.put(b"GET / HTTP/1.1\r\n");
        assert_eq!(b.area.len(), 16);
        b.advance(16);
        b.consume(16);
        // Empty again: the next write starts at 0, below the mark.
        b.put(b"x");
        assert_eq!(b.area.len(), 16);
        assert_eq!(cat(b.in_data()), b"x");
    }

    #[test]
    fn pool_reuses_and_bounds() {
        let mut p = BufPool::new(16, 1);
        let a = p.alloc();
        let b = p.alloc();
        assert_eq!(p.used, 2);
        p.release(a);
        p.release(b);
        assert_eq!(p.used, 0);
        assert_eq!(p.free_count(), 1);
    }
}
