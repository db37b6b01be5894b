//! A read-only hash table of string keys to `u16` values, written at build time (`build.rs`)
//! and read in place from the bytes compiled into the crate: no start-up cost, no heap.
//!
//! Layout, little-endian: `u32` slot count, then the slots, then the bytes of the keys longer
//! than [`INLINE`]. A slot is [`SLOT`] bytes: `u8` key length (0 for an empty slot), `u8`
//! distance from the key's [`home`] slot, `u16` value, then the key itself, zero-padded, or
//! for a longer key the `u32` offset of its bytes. Four slots fill a cache line, and most keys
//! are short enough to sit in their slot, so a lookup usually reads one line.
//!
//! Keys are placed by linear probing with Robin Hood displacement: a key that would sit farther
//! from its home than the one in its way takes that slot and moves the other on. A lookup then
//! stops at the first slot whose key sits nearer its own home than the looked-up key would, so
//! looking up a word the table lacks costs about as little as one it holds. The tables are
//! about 80 % full.

/// Bytes of one slot.
pub const SLOT: usize = 16;

/// The longest key stored in its slot.
pub const INLINE: usize = SLOT - 4;

/// A hash of eight bytes at a time (FxHash's step, then a final mix so the high bits, which pick
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

/// The last 12 bytes of a slot for `key`: the key, zero-padded, if it fits.
fn inline(key: &[u8]) -> Option<[u8; INLINE]> {
    let mut bytes = [0u8; INLINE];
    bytes.get_mut(..key.len())?.copy_from_slice(key);
    Some(bytes)
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
        if key.is_empty() || key.len() > usize::from(u8::MAX) {
            return None;
        }
        let short = inline(key);
        let mut i = home(key, self.slots);
        for distance in 0..=usize::from(u8::MAX) {
            let slot = self.slot(i);
            // NB: an empty slot, or a key nearer its home than this one would be, ends the run
            // where the key could sit.
            if slot[0] == 0 || usize::from(slot[1]) < distance {
                return None;
            }
            if usize::from(slot[0]) == key.len() && self.key_matches(slot, key, short) {
                return Some(u16::from_le_bytes([slot[2], slot[3]]));
            }
            i += 1;
            if i == self.slots {
                i = 0;
            }
        }
        None
    }

    /// Slot `i`.
    fn slot(&self, i: usize) -> &[u8; SLOT] {
        self.bytes[4 + i * SLOT..4 + (i + 1) * SLOT]
            .try_into()
            .expect("a slot")
    }

    /// Whether the key of `slot`, of the same length as `key`, is `key`.
    fn key_matches(&self, slot: &[u8; SLOT], key: &[u8], short: Option<[u8; INLINE]>) -> bool {
        match short {
            Some(short) => slot[4..] == short,
            None => {
                let offset = u32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]) as usize;
                let long = &self.bytes[4 + self.slots * SLOT..];
                long.get(offset..offset + key.len()) == Some(key)
            }
        }
    }
}

/// The bytes of a table holding `entries` (distinct keys of 1 to 255 bytes), about 80 % full.
#[allow(dead_code)] // NB: `build.rs` writes the tables; the crate only reads them.
pub fn write(entries: &[(String, u16)]) -> Vec<u8> {
    let slots = entries.len() * 5 / 4 + 1;
    let mut index = vec![[0u8; SLOT]; slots];
    let mut long = Vec::new();
    for (key, value) in entries {
        let key = key.as_bytes();
        let len = u8::try_from(key.len()).expect("a key is shorter than 256 bytes");
        assert!(len > 0, "a key is not empty");
        let mut slot = [0u8; SLOT];
        slot[0] = len;
        slot[2..4].copy_from_slice(&value.to_le_bytes());
        match inline(key) {
            Some(bytes) => slot[4..].copy_from_slice(&bytes),
            None => {
                let offset = u32::try_from(long.len()).expect("keys fit in 4 GiB");
                slot[4..8].copy_from_slice(&offset.to_le_bytes());
                long.extend_from_slice(key);
            }
        }
        let mut i = home(key, slots);
        // NB: Robin Hood: the key farther from its home keeps the slot; the other moves on.
        while index[i][0] != 0 {
            if index[i][1] < slot[1] {
                std::mem::swap(&mut index[i], &mut slot);
            }
            slot[1] = slot[1].checked_add(1).expect("a key sits near its home");
            i = (i + 1) % slots;
        }
        index[i] = slot;
    }
    let mut bytes = u32::try_from(slots)
        .expect("a slot count")
        .to_le_bytes()
        .to_vec();
    bytes.extend(index.iter().flatten());
    bytes.extend(long);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[&str]) -> Table {
        let entries: Vec<(String, u16)> = keys
            .iter()
            .enumerate()
            .map(|(n, k)| (k.to_string(), n as u16 + 1))
            .collect();
        Table::new(Vec::leak(write(&entries)))
    }

    #[test]
    fn every_key_is_found_with_its_value_and_no_other_is() {
        let keys: Vec<String> = (0..5000)
            .map(|n| format!("w{n}"))
            .chain((0..500).map(|n| format!("a-long-place-name-number-{n}")))
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let t = table(&refs);
        for (n, k) in refs.iter().enumerate() {
            assert_eq!(t.get(k), Some(n as u16 + 1), "{k}");
        }
        for absent in ["", "w", "w5000", "w12a", "a-long-place-name-number-500"] {
            assert_eq!(t.get(absent), None, "{absent}");
        }

        assert_eq!(t.get(&"z".repeat(300)), None);
    }

    #[test]
    fn keys_differing_only_after_twelve_bytes_or_in_padding_are_told_apart() {
        let t = table(&["abcdefghijkl", "abcdefghijklm", "abc", "abcdefghijkln"]);
        assert_eq!(t.get("abcdefghijkl"), Some(1));
        assert_eq!(t.get("abcdefghijklm"), Some(2));
        assert_eq!(t.get("abc"), Some(3));
        assert_eq!(t.get("abcdefghijkln"), Some(4));
        assert_eq!(t.get("abc\0"), None);
        assert_eq!(t.get("abcdefghijklz"), None);
    }
}
