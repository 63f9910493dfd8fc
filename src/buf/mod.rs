//! Ring buffers and the buffer pool.
//!
//! A `Buffer` is a fixed-size ring (`tune.bufsize`, 16 KiB by default) holding
//! the bytes in flight in one channel. Buffers come from the `BufPool` when
//! data arrives and go back when the channel is empty, so idle connections
//! hold none. When a buffer empties its head goes back to 0 so the next read
//! gets the whole area in one contiguous piece.
//!
//! ```text
//!   area: [.....head=====data=====tail.......]     (or wrapped:)
//!         [===tail.............head==========]
//! ```

pub mod pipe;

/// A ring buffer of `cap` bytes.
pub struct Buffer {
    area: Box<[u8]>,
    head: usize,
    len: usize,
}

impl Buffer {
    /// A new empty buffer of `size` bytes.
    pub fn new(size: usize) -> Self {
        Buffer {
            area: vec![0u8; size].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    /// Capacity in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        self.area.len()
    }

    /// Bytes stored.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no byte is stored.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Free room in bytes.
    #[inline]
    pub fn room(&self) -> usize {
        self.area.len() - self.len
    }

    /// The stored bytes as up to two slices (oldest first).
    pub fn data(&self) -> (&[u8], &[u8]) {
        let cap = self.area.len();
        let end = self.head + self.len;
        if end <= cap {
            (&self.area[self.head..end], &[])
        } else {
            (&self.area[self.head..], &self.area[..end - cap])
        }
    }

    /// The free area as up to two writable slices (first one right after the data).
    pub fn free_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        let cap = self.area.len();
        if self.len == 0 {
            self.head = 0;
        }
        let tail = (self.head + self.len) % cap.max(1);
        if self.len == cap {
            return (&mut [], &mut []);
        }
        if tail >= self.head {
            let (before, after) = self.area.split_at_mut(tail);
            let wrap = &mut before[..self.head];
            (after, wrap)
        } else {
            (&mut self.area[tail..self.head], &mut [])
        }
    }

    /// Records that `n` bytes were written into the free area.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        debug_assert!(n <= self.room());
        self.len += n.min(self.room());
    }

    /// Removes `n` bytes from the front (they were sent).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.len -= n;
        if self.len == 0 {
            self.head = 0;
        } else {
            self.head = (self.head + n) % self.area.len();
        }
    }

    /// Appends as much of `src` as fits; returns the count copied.
    pub fn put(&mut self, src: &[u8]) -> usize {
        let (a, b) = self.free_mut();
        let n1 = a.len().min(src.len());
        a[..n1].copy_from_slice(&src[..n1]);
        let rest = &src[n1..];
        let n2 = b.len().min(rest.len());
        b[..n2].copy_from_slice(&rest[..n2]);
        self.commit(n1 + n2);
        n1 + n2
    }

    /// Empties the buffer.
    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// A pool of same-size buffers. `alloc` reuses a released buffer if any.
pub struct BufPool {
    size: usize,
    free: Vec<Buffer>,
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
        if self.free.len() < self.keep {
            b.reset();
            self.free.push(b);
        }
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

    #[test]
    fn fill_consume_wrap() {
        let mut b = Buffer::new(8);
        assert_eq!(b.put(b"abcdef"), 6);
        b.consume(4);
        assert_eq!(contents(&b), b"ef");
        // free area: 2 bytes at the end, 4 at the start
        let (x, y) = b.free_mut();
        assert_eq!((x.len(), y.len()), (2, 4));
        assert_eq!(b.put(b"ghijklm"), 6);
        assert_eq!(b.room(), 0);
        assert_eq!(contents(&b), b"efghijkl");
        let (x, y) = b.data();
        assert_eq!((x, y), (&b"efgh"[..], &b"ijkl"[..]));
        b.consume(8);
        assert!(b.is_empty());
        // empty resets head: whole area contiguous again
        let (x, y) = b.free_mut();
        assert_eq!((x.len(), y.len()), (8, 0));
    }

    #[test]
    fn free_area_inside_wrapped_data() {
        let mut b = Buffer::new(8);
        b.put(b"12345678");
        b.consume(6);
        b.put(b"abc"); // data: "78" + "abc" wrapped, tail at 3, head at 6
        let (x, y) = b.free_mut();
        assert_eq!((x.len(), y.len()), (3, 0));
        assert_eq!(contents(&b), b"78abc");
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
