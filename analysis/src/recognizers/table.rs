//! A read-only hash table of string keys to `u16` values, written at build time (`build.rs`)
//! and read in place from the bytes compiled into the crate: no start-up cost, no heap.
//!
//! Layout, little-endian: `u32` slot count, then the slots (`u32` key offset plus one, 0 for an
//! empty slot; `u16` key length; `u16` value), then the keys' bytes. A key lives in the first
//! free slot from [`home`] on (linear probing); the tables are about 80 % full.

/// Bytes of one slot.
pub const SLOT: usize = 8;

/// A hash of eight bytes at a time (FxHash's step, then a final mix so the low bits, which pick
/// the slot, depend on every byte): stable across builds and platforms, so writer and reader
/// agree.
pub fn hash(key: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let step = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let mut chunks = key.chunks_exact(8);
    let mut h = (&mut chunks).fold(key.len() as u64, |h, c| {
        step(h, u64::from_le_bytes(c.try_into().expect("eight bytes")))
    });
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(last));
    }
    h ^= h >> 29;
    h = h.wrapping_mul(K);
    h ^ (h >> 32)
}

/// The slot where the search for `key` starts, in a table of `slots` slots.
pub fn home(key: &[u8], slots: usize) -> usize {
    // NB: the high bits of hash × slots, an even spread without a division.
    ((u128::from(hash(key)) * slots as u128) >> 64) as usize
}

/// A table read from its bytes.
#[derive(Clone, Copy)]
pub struct Table {
    bytes: &'static [u8],
    slots: usize,
}

impl Table {
    /// The table laid out in `bytes`.
    pub fn new(bytes: &'static [u8]) -> Self {
        let slots = u32::from_le_bytes(bytes[..4].try_into().expect("a slot count")) as usize;
        assert!(slots > 0 && bytes.len() >= 4 + slots * SLOT);
        Table { bytes, slots }
    }

    /// The value of `key`, if the table holds it.
    pub fn get(&self, key: &str) -> Option<u16> {
        let key = key.as_bytes();
        let keys = &self.bytes[4 + self.slots * SLOT..];
        let mut i = home(key, self.slots);
        loop {
            let slot = &self.bytes[4 + i * SLOT..4 + (i + 1) * SLOT];
            let offset = u32::from_le_bytes(slot[..4].try_into().expect("an offset")) as usize;
            if offset == 0 {
                return None;
            }
            let len = usize::from(u16::from_le_bytes([slot[4], slot[5]]));
            if len == key.len() && &keys[offset - 1..offset - 1 + len] == key {
                return Some(u16::from_le_bytes([slot[6], slot[7]]));
            }
            i += 1;
            if i == self.slots {
                i = 0;
            }
        }
    }
}
