//! Typed ids and the arenas they index.
//!
//! Every entity the loop juggles (connections, streams, tasks, applets,
//! queue entries) lives in an [`Arena`]: a slab whose keys are a newtype, so
//! a stream id can never be used to look up a connection. An id that no
//! longer names a live entry is a bug in the caller, not an input error:
//! lookups `debug_assert!` on it (release builds return `None` and the caller
//! treats the event as already handled).

use std::marker::PhantomData;

/// A typed index into an [`Arena`].
pub trait Id: Copy + Eq + std::fmt::Debug {
    /// The slab key.
    fn idx(self) -> usize;
    /// The id for a slab key.
    fn from_idx(i: usize) -> Self;
}

/// Declares `pub struct $name(u32)` implementing [`Id`].
macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(u32);

        impl $crate::arena::Id for $name {
            #[inline]
            fn idx(self) -> usize {
                self.0 as usize
            }
            #[inline]
            fn from_idx(i: usize) -> Self {
                debug_assert!(i <= u32::MAX as usize);
                $name(i as u32)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

typed_id!(
    /// A connection in the engine's connection arena.
    ConnId
);
typed_id!(
    /// A stream in the engine's stream arena.
    StreamId
);
typed_id!(
    /// A task in the scheduler.
    TaskId
);
typed_id!(
    /// An applet (a stream end driven by a task).
    AppletId
);
typed_id!(
    /// A queued connection request (HAProxy's pendconn).
    PendId
);

/// A slab keyed by `I`.
pub struct Arena<I: Id, T> {
    slab: slab::Slab<T>,
    _id: PhantomData<I>,
}

impl<I: Id, T> Arena<I, T> {
    /// An empty arena with room for `cap` entries before it grows.
    pub fn with_capacity(cap: usize) -> Self {
        Arena {
            slab: slab::Slab::with_capacity(cap),
            _id: PhantomData,
        }
    }

    /// Stores `v`; returns its id.
    #[inline]
    pub fn insert(&mut self, v: T) -> I {
        I::from_idx(self.slab.insert(v))
    }

    /// The id the next `insert` returns.
    #[inline]
    pub fn next_id(&self) -> I {
        I::from_idx(self.slab.vacant_key())
    }

    /// Takes entry `id` out. A stale id is a caller bug.
    #[inline]
    pub fn remove(&mut self, id: I) -> Option<T> {
        let v = self.slab.try_remove(id.idx());
        debug_assert!(v.is_some(), "stale id {id:?} removed");
        v
    }

    /// Entry `id`. A stale id is a caller bug.
    #[inline]
    pub fn get(&self, id: I) -> Option<&T> {
        let v = self.slab.get(id.idx());
        debug_assert!(v.is_some(), "stale id {id:?}");
        v
    }

    /// Entry `id`, mutable. A stale id is a caller bug.
    #[inline]
    pub fn get_mut(&mut self, id: I) -> Option<&mut T> {
        let v = self.slab.get_mut(id.idx());
        debug_assert!(v.is_some(), "stale id {id:?}");
        v
    }

    /// True when `id` names a live entry (for the rare lookups where a
    /// missing entry is legitimate).
    #[inline]
    pub fn contains(&self, id: I) -> bool {
        self.slab.contains(id.idx())
    }

    /// Live entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// True when no entry is live.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    /// Every live entry with its id.
    pub fn iter(&self) -> impl Iterator<Item = (I, &T)> {
        self.slab.iter().map(|(k, v)| (I::from_idx(k), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    typed_id!(
        /// A test id.
        TestId
    );

    #[test]
    fn ids_round_trip_and_slots_are_reused() {
        let mut a: Arena<TestId, &str> = Arena::with_capacity(2);
        let x = a.insert("x");
        let y = a.insert("y");
        assert_ne!(x, y);
        assert_eq!(a.get(y), Some(&"y"));
        assert_eq!(a.next_id(), TestId::from_idx(2));
        assert_eq!(a.remove(x), Some("x"));
        assert!(!a.contains(x));
        assert_eq!(a.next_id(), x);
        assert_eq!(a.insert("z"), x);
        assert_eq!(a.len(), 2);
        assert_eq!(a.iter().count(), 2);
    }
}
