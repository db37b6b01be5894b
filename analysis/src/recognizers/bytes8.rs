//! Tests of eight bytes at once, to pass quickly over the parts of a text a scan has no use for.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether some byte of `x` is below `n` (at most 128).
fn has_byte_below(x: u64, n: u8) -> bool {
    // NB: `(x - n) & !x & 0x80` flags, in some byte, a byte below `n`: a borrow may flag a wrong
    // byte too, but only when some byte is below `n`, so the answer is exact.
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0
}

/// Whether one of the eight bytes of `w` is an ASCII digit.
pub(crate) fn has_digit(w: u64) -> bool {
    // NB: a digit differs from `0` in its low four bits only, by less than 10.
    has_byte_below(w ^ (ONES * u64::from(b'0')), 10)
}

/// Whether one of the eight bytes of `w` may start a capitalised word or a character of several
/// bytes: an ASCII capital, `@` (a false alarm the caller rules out), or a byte from 0xC0 on.
pub(crate) fn may_start_capital(w: u64) -> bool {
    // NB: `A`..`Z` are 0x41..0x5A, which `^ 0x40` makes 1..26; `@` (0x40) becomes 0.
    let capital = has_byte_below(w ^ (ONES * 0x40), 27);
    let lead = w & (w << 1) & HIGH != 0;
    capital || lead
}

/// The first offset from `i` on where the eight bytes there might pass `test`; the bytes skipped
/// all fail it, and fewer than eight are left after the offset returned, or they might pass.
pub(crate) fn skip(bytes: &[u8], mut i: usize, test: fn(u64) -> bool) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8)
        && !test(u64::from_le_bytes(chunk.try_into().expect("eight bytes")))
    {
        i += 8;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `test` against `byte_passes` for every byte at every place of eight.
    fn exhaustively(test: fn(u64) -> bool, byte_passes: impl Fn(u8) -> bool) {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"abcdefgh";
                bytes[at] = b;
                assert_eq!(test(u64::from_le_bytes(bytes)), byte_passes(b), "{b}");
            }
        }
    }

    #[test]
    fn eight_bytes_are_tested_for_digits_at_once() {
        for (text, expected) in [
            (*b"abcdefgh", false),
            (*b"abcdefg0", true),
            (*b"9bcdefgh", true),
            (*b"//::////", false),
            (*b"\xc3\xa9\xe2\x80\x99 x ", false),
            (*b"@@@5@@@@", true),
        ] {
            assert_eq!(has_digit(u64::from_le_bytes(text)), expected, "{text:?}");
        }
        exhaustively(has_digit, |b| b.is_ascii_digit());
    }

    #[test]
    fn eight_bytes_are_tested_for_capitals_and_lead_bytes_at_once() {
        exhaustively(may_start_capital, |b| {
            b.is_ascii_uppercase() || b == b'@' || b >= 0xC0
        });
        let skipped = skip(b"the quick brown fox jumps Over", 0, may_start_capital);
        assert_eq!(skipped, 24);
    }
}
