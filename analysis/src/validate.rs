//! Checksums and format rules that tell real identifiers from look-alikes.

use sha2::{Digest, Sha256};

/// The ASCII digits of `s`, as numbers.
pub(crate) fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// Luhn (mod 10) check used by payment cards.
pub(crate) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    !d.is_empty() && sum.is_multiple_of(10)
}

/// Whether a card number's length and issuer prefix belong to a known card network.
pub(crate) fn card_issuer_known(d: &[u8]) -> bool {
    let prefix = |n: usize| {
        d.iter()
            .take(n)
            .fold(0u32, |acc, &x| acc * 10 + u32::from(x))
    };
    let len = d.len();
    match d.first() {
        Some(4) => matches!(len, 13 | 16 | 19),
        Some(5) => (51..=55).contains(&prefix(2)) && len == 16,
        Some(2) => (2221..=2720).contains(&prefix(4)) && len == 16,
        Some(3) => match prefix(2) {
            34 | 37 => len == 15,
            35 => (16..=19).contains(&len),
            30 | 36 | 38 | 39 => (14..=19).contains(&len),
            _ => false,
        },
        Some(6) => {
            (prefix(4) == 6011
                || prefix(2) == 65
                || (644..=649).contains(&prefix(3))
                || prefix(2) == 62)
                && (16..=19).contains(&len)
        }
        _ => false,
    }
}

/// ISO 13616 IBAN check: known country length and mod-97 remainder 1.
pub(crate) fn iban(compact: &str) -> bool {
    let b = compact.as_bytes();
    if b.len() < 15 || b.len() > 34 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    if let Some(len) = iban_length(&compact[..2])
        && len != b.len()
    {
        return false;
    }
    let rearranged = b[4..].iter().chain(&b[..4]);
    let mut rem: u32 = 0;
    for &c in rearranged {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn iban_length(country: &str) -> Option<usize> {
    // Lengths from the SWIFT IBAN registry for the most used countries.
    Some(match country {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "FO" | "GL" | "NL" => 18,
        "SI" => 19,
        "AT" | "EE" | "KZ" | "LT" | "LU" => 20,
        "CH" | "HR" | "LI" | "LV" => 21,
        "BG" | "DE" | "GB" | "IE" | "ME" | "RS" => 22,
        "GI" | "IL" | "AE" => 23,
        "AD" | "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" => 24,
        "PT" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "SM" => 27,
        "AL" | "AZ" | "CY" | "DO" | "GT" | "HU" | "LB" | "PL" => 28,
        "BR" | "PS" | "QA" => 29,
        "JO" | "KW" | "MU" => 30,
        "MT" => 31,
        _ => return None,
    })
}

/// SSA rules: no area 000, 666 or 9xx, no group 00, no serial 0000, not a published sample.
pub(crate) fn ssn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    let all_same = d.iter().all(|&x| x == d[0]);
    let sample = d == [1, 2, 3, 4, 5, 6, 7, 8, 9] || d == [0, 7, 8, 0, 5, 1, 1, 2, 0];
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !all_same && !sample
}

/// IRS ITIN ranges: area 9xx and group 50–65, 70–88, 90–92 or 94–99.
pub(crate) fn itin(d: &[u8]) -> bool {
    if d.len() != 9 || d[0] != 9 {
        return false;
    }
    let group = d[3] * 10 + d[4];
    matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// NHS number modulus 11 check digit.
pub(crate) fn nhs(d: &[u8]) -> bool {
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9]
        .iter()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * (10 - i as u32))
        .sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == u32::from(d[9])
}

/// DEA registration number check (letter, letter, seven digits with a check digit).
pub(crate) fn dea(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 9 || !b[0].is_ascii_uppercase() || !(b[1].is_ascii_uppercase() || b[1] == b'9') {
        return false;
    }
    let d = digits(&s[2..]);
    if d.len() != 7 {
        return false;
    }
    let odd = u32::from(d[0]) + u32::from(d[2]) + u32::from(d[4]);
    let even = u32::from(d[1]) + u32::from(d[3]) + u32::from(d[5]);
    (odd + 2 * even) % 10 == u32::from(d[6])
}

/// ABA routing transit number checksum.
pub(crate) fn aba_routing(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let w = [3u32, 7, 1, 3, 7, 1, 3, 7, 1];
    d.iter().zip(w).map(|(&x, w)| u32::from(x) * w).sum::<u32>() % 10 == 0
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// The value of each byte as a Base58 digit.
const BASE58_VALUE: [Option<u8>; 256] = {
    let mut table = [None; 256];
    let mut i = 0;
    while i < BASE58.len() {
        table[BASE58[i] as usize] = Some(i as u8);
        i += 1;
    }
    table
};

/// Base58Check Bitcoin address (P2PKH / P2SH) with a valid double-SHA-256 checksum.
pub(crate) fn base58check(s: &str) -> bool {
    let mut bytes: Vec<u8> = Vec::with_capacity(25);
    for c in s.bytes() {
        let Some(mut carry) = BASE58_VALUE[usize::from(c)].map(u32::from) else {
            return false;
        };
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    let mut full = vec![0u8; zeros];
    full.extend(bytes);
    if full.len() != 25 || !matches!(full[0], 0x00 | 0x05) {
        return false;
    }
    let hash = Sha256::digest(Sha256::digest(&full[..21]));
    hash[..4] == full[21..]
}

const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Bech32 / bech32m segwit address with human-readable part `bc`.
pub(crate) fn bech32(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if lower != s && s.to_ascii_uppercase() != s {
        return false;
    }
    let Some(rest) = lower.strip_prefix("bc1") else {
        return false;
    };
    if rest.len() < 7 {
        return false;
    }
    let mut values = vec![3u8, 3, 0, 2, 3]; // expanded hrp "bc"
    for c in rest.bytes() {
        match BECH32.iter().position(|&x| x == c) {
            Some(v) => values.push(v as u8),
            None => return false,
        }
    }
    let mut chk: u32 = 1;
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk == 1 || chk == 0x2bc8_30a3
}

/// Shannon entropy of a string in bits per character.
pub(crate) fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_a_changed_digit() {
        assert!(luhn(&digits("4111 1111 1111 1111")));
        assert!(luhn(&digits("378282246310005")));
        assert!(!luhn(&digits("4111 1111 1111 1112")));
    }

    #[test]
    fn card_issuers_need_a_known_prefix_and_length() {
        assert!(card_issuer_known(&digits("4111111111111111")));
        assert!(card_issuer_known(&digits("378282246310005")));
        assert!(!card_issuer_known(&digits("9111111111111111")));
    }

    #[test]
    fn iban_checks_length_and_mod_97() {
        assert!(iban("GB82WEST12345698765432"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("GB82WEST12345698765433"));
        assert!(!iban("DE8937040044053201300"));
    }

    #[test]
    fn ssn_follows_ssa_rules() {
        assert!(ssn(&digits("536-22-1234")));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "536-00-1234",
            "536-22-0000",
            "123-45-6789",
        ] {
            assert!(!ssn(&digits(bad)), "{bad}");
        }
    }

    #[test]
    fn itin_needs_area_nine_and_a_valid_group() {
        assert!(itin(&digits("912-70-1234")));
        assert!(!itin(&digits("912-40-1234")));
        assert!(!itin(&digits("812-70-1234")));
    }

    #[test]
    fn nhs_numbers_carry_a_mod_11_check_digit() {
        assert!(nhs(&digits("943 476 5919")));
        assert!(!nhs(&digits("943 476 5918")));
    }

    #[test]
    fn dea_numbers_carry_a_check_digit() {
        assert!(dea("AB1234563"));
        assert!(!dea("AB1234567"));
    }

    #[test]
    fn aba_routing_numbers_carry_a_checksum() {
        assert!(aba_routing(&digits("021000021")));
        assert!(!aba_routing(&digits("021000022")));
    }

    #[test]
    fn bitcoin_addresses_are_checked() {
        assert!(base58check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(base58check("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!base58check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
        assert!(bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(!bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx"));
    }

    #[test]
    fn random_tokens_have_more_entropy_than_words() {
        assert!(entropy("q8Fz2LmX9pRt4Vw7Ks1N") > entropy("passwordpassword"));
    }
}
