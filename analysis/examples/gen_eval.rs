//! Generates the evaluation set `eval/dataset.jsonl` deterministically (fixed seed).
//!
//! `cargo run -p guardrails-analysis --example gen_eval [-- OUT]` writes the development set the
//! recognizers were tuned on; `-- --heldout [OUT]` writes `eval/heldout.jsonl`, built from other
//! templates and a different seed, written once and never tuned against.
//!
//! Each line: `{"id", "kind", "text", "spans":[{"type","start","end"}]}`, code-point offsets.
//! Names come from the Census lists (including held-out surnames the crate does not ship) and a
//! short list of international names; places from the shipped GeoNames extract.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

const FIRST: &str = include_str!("../data/first_names.txt");
const LAST: &str = include_str!("../data/last_names.txt");
const LAST_HELDOUT: &str = include_str!("../eval/data/last_names_heldout.txt");
const PLACES: &str = include_str!("../data/places.tsv");
const COMMON: &str = include_str!("../data/common_words.txt");
const AMBIGUOUS: &str = include_str!("../data/ambiguous_words.txt");

const INTL_FIRST: &[&str] = &[
    "José",
    "Zoë",
    "Søren",
    "Oluwaseun",
    "Björn",
    "Chloé",
    "Łukasz",
    "Renée",
    "Siobhán",
    "Aiyana",
    "Hiroshi",
    "Priya",
    "Mehmet",
    "Ngozi",
    "Ines",
    "Dmitri",
    "Aoife",
    "Thandiwe",
    "Mateo",
    "Yusuf",
];
const INTL_LAST: &[&str] = &[
    "García",
    "Müller",
    "Nguyễn",
    "Øberg",
    "Kowalczyk",
    "Żukowski",
    "Ólafsdóttir",
    "Dubois",
    "Rossi",
    "Yamamoto",
    "Okonkwo",
    "Adeyemi",
    "Haddad",
    "Novák",
    "Björk",
    "Fernández",
    "Papadopoulos",
    "Chaudhry",
    "Ivanova",
    "Lindqvist",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "contoso.net",
    "acme.io",
    "fabrikam.co.uk",
    "posteo.de",
];
const TITLES: &[&str] = &["Dr.", "Mr.", "Mrs.", "Ms.", "Prof."];

/// SplitMix64: a tiny deterministic generator, so the set never changes with a crate upgrade.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
}

struct Lists {
    first: Vec<&'static str>,
    last: Vec<&'static str>,
    last_heldout: Vec<&'static str>,
    places: Vec<&'static str>,
    regions: Vec<&'static str>,
}

fn lines(s: &'static str) -> Vec<&'static str> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

impl Lists {
    fn load() -> Self {
        let common: std::collections::HashSet<String> = lines(COMMON)
            .into_iter()
            .chain(lines(AMBIGUOUS))
            .map(str::to_lowercase)
            .collect();
        let plain = |w: &&str| !common.contains(&w.to_lowercase());
        let mut places = Vec::new();
        let mut regions = Vec::new();
        for l in lines(PLACES) {
            let (name, tier) = l.split_once('\t').unwrap();
            if !plain(&name) || name.contains(['(', ',', '\'']) {
                continue;
            }
            match tier {
                "0" => regions.push(name),
                "1" | "2" => places.push(name),
                _ => {}
            }
        }
        Lists {
            first: lines(FIRST).into_iter().filter(plain).collect(),
            last: lines(LAST).into_iter().take(5000).filter(plain).collect(),
            last_heldout: lines(LAST_HELDOUT).into_iter().filter(plain).collect(),
            places,
            regions,
        }
    }
}

/// A text being built, with its gold spans in code points.
#[derive(Default)]
struct Doc {
    text: String,
    chars: usize,
    spans: Vec<(String, usize, usize)>,
}

impl Doc {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.chars += s.chars().count();
    }
    fn entity(&mut self, t: &str, s: &str) {
        let start = self.chars;
        self.push(s);
        self.spans.push((t.to_string(), start, self.chars));
    }
}

fn person(r: &mut Rng, l: &Lists, d: &mut Doc) {
    let intl = r.chance(15);
    let first = if intl {
        r.pick(INTL_FIRST)
    } else {
        r.pick(&l.first)
    };
    let last = if intl {
        r.pick(INTL_LAST)
    } else if r.chance(25) {
        r.pick(&l.last_heldout)
    } else {
        r.pick(&l.last)
    };
    match r.below(10) {
        0 => {
            d.push(r.pick(TITLES));
            d.push(" ");
            d.entity("PERSON", last);
        }
        1 => d.entity(
            "PERSON",
            &format!("{first} {}. {last}", char::from(b'A' + r.below(26) as u8)),
        ),
        _ => d.entity("PERSON", &format!("{first} {last}")),
    }
}

fn first_only(r: &mut Rng, l: &Lists, d: &mut Doc) {
    let first = if r.chance(15) {
        r.pick(INTL_FIRST)
    } else {
        r.pick(&l.first)
    };
    d.entity("PERSON", first);
}

fn location(r: &mut Rng, l: &Lists, d: &mut Doc) {
    if r.chance(30) {
        d.entity("LOCATION", r.pick(&l.regions));
    } else {
        d.entity("LOCATION", r.pick(&l.places));
        if r.chance(30) {
            d.push(", ");
            d.entity("LOCATION", r.pick(&l.regions));
        }
    }
}

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn date(r: &mut Rng, d: &mut Doc) {
    let (y, m, day) = (r.range(1940, 2025), r.range(1, 12) as usize, r.range(1, 28));
    let s = match r.below(5) {
        0 => format!("{y}-{m:02}-{day:02}"),
        1 => format!("{m:02}/{day:02}/{y}"),
        2 => format!("{} {day}, {y}", MONTHS[m - 1]),
        3 => format!("{day} {} {y}", &MONTHS[m - 1][..3]),
        _ => format!("{day:02}.{m:02}.{y}"),
    };
    d.entity("DATE_TIME", &s);
}

fn timestamp(r: &mut Rng) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        r.range(1, 12),
        r.range(1, 28),
        r.range(0, 23),
        r.range(0, 59),
        r.range(0, 59)
    )
}

fn email(r: &mut Rng, l: &Lists) -> String {
    let first = r.pick(&l.first).to_lowercase();
    let last = r.pick(&l.last).to_lowercase();
    let local = match r.below(3) {
        0 => format!("{first}.{last}"),
        1 => format!("{}{last}{}", &first[..1], r.range(1, 99)),
        _ => format!("{first}_{last}"),
    };
    format!("{local}@{}", r.pick(DOMAINS))
}

fn phone(r: &mut Rng) -> String {
    let (a, e, n) = (r.range(201, 989), r.range(200, 999), r.digits(4));
    match r.below(7) {
        0 => format!("({a}) {e}-{n}"),
        1 => format!("{a}-{e}-{n}"),
        2 => format!("+1 {a} {e} {n}"),
        3 => format!("{a}.{e}.{n}"),
        4 => format!("+44 20 {} {}", r.range(7000, 8999), r.digits(4)),
        5 => format!("+49 30 {}", r.digits(8)),
        _ => format!(
            "+33 1 {} {} {} {}",
            r.digits(2),
            r.digits(2),
            r.digits(2),
            r.digits(2)
        ),
    }
}

fn ssn(r: &mut Rng) -> String {
    let area = loop {
        let a = r.range(1, 899);
        if a != 666 {
            break a;
        }
    };
    format!("{area:03}-{:02}-{:04}", r.range(1, 99), r.range(1, 9999))
}

fn itin(r: &mut Rng) -> String {
    format!(
        "9{:02}-{}-{:04}",
        r.range(0, 99),
        r.range(70, 88),
        r.range(0, 9999)
    )
}

fn luhn_complete(body: &str) -> String {
    for check in 0..10 {
        let candidate = format!("{body}{check}");
        let sum: u32 = candidate
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let x = u32::from(b - b'0');
                if i % 2 == 1 {
                    if x * 2 > 9 { x * 2 - 9 } else { x * 2 }
                } else {
                    x
                }
            })
            .sum();
        if sum.is_multiple_of(10) {
            return candidate;
        }
    }
    unreachable!("one check digit always fits")
}

fn card(r: &mut Rng) -> String {
    let (prefix, len) = match r.below(4) {
        0 => ("4".to_string(), 16),
        1 => (format!("5{}", r.range(1, 5)), 16),
        2 => (if r.chance(50) { "34" } else { "37" }.to_string(), 15),
        _ => ("6011".to_string(), 16),
    };
    let body = format!("{prefix}{}", r.digits(len - prefix.len() - 1));
    let n = luhn_complete(&body);
    let sep = r.pick(&[" ", "-", ""]);
    if len == 15 {
        format!("{}{sep}{}{sep}{}", &n[..4], &n[4..10], &n[10..])
    } else {
        n.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(sep)
    }
}

fn iban(r: &mut Rng) -> String {
    let (cc, bban) = match r.below(4) {
        0 => ("DE", r.digits(18)),
        1 => (
            "GB",
            format!(
                "{}{}",
                r.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4),
                r.digits(14)
            ),
        ),
        2 => ("FR", r.digits(23)),
        _ => (
            "NL",
            format!(
                "{}{}",
                r.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4),
                r.digits(10)
            ),
        ),
    };
    let numeric: String = format!("{bban}{cc}00")
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                c.to_string()
            } else {
                (c as u32 - 'A' as u32 + 10).to_string()
            }
        })
        .collect();
    let rem = numeric
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    let compact = format!("{cc}{:02}{bban}", 98 - rem);
    if r.chance(50) {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        compact
    }
}

fn bitcoin(r: &mut Rng) -> String {
    if r.chance(20) {
        return r
            .pick(&[
                "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            ])
            .to_string();
    }
    let mut payload = vec![if r.chance(70) { 0u8 } else { 5u8 }];
    payload.extend((0..20).map(|_| r.below(256) as u8));
    let check = Sha256::digest(Sha256::digest(&payload));
    payload.extend(&check[..4]);
    base58(&payload)
}

fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(
            digits
                .iter()
                .rev()
                .map(|&d| char::from(ALPHABET[d as usize])),
        )
        .collect()
}

fn nhs(r: &mut Rng) -> String {
    loop {
        let d: Vec<u32> = (0..9).map(|_| r.below(10) as u32).collect();
        let sum: u32 = d.iter().enumerate().map(|(i, x)| x * (10 - i as u32)).sum();
        let check = (11 - sum % 11) % 11;
        if check == 10 {
            continue;
        }
        let s: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
        return format!("{} {} {}{check}", &s[..3], &s[3..6], &s[6..]);
    }
}

fn dea(r: &mut Rng) -> String {
    let d: Vec<u32> = (0..6).map(|_| r.below(10) as u32).collect();
    let check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
    let letters = r.chars(b"ABFGM", 1) + &r.chars(b"ABCDEFGHJKLMNPRSTUVWXYZ", 1);
    format!(
        "{letters}{}{check}",
        d.iter().map(|x| x.to_string()).collect::<String>()
    )
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn api_key(r: &mut Rng) -> String {
    match r.below(5) {
        0 => format!("ghp_{}", r.chars(ALNUM, 36)),
        1 => format!("sk_live_{}", r.chars(ALNUM, 24)),
        2 => format!(
            "xoxb-{}-{}-{}",
            r.digits(12),
            r.digits(12),
            r.chars(ALNUM, 24)
        ),
        3 => format!("AIza{}", r.chars(ALNUM, 35)),
        _ => format!("{}{}", r.chars(ALNUM, 30), r.digits(2)),
    }
}

fn jwt(r: &mut Rng) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":"{}","iat":{}}}"#,
        r.digits(8),
        r.range(1_600_000_000, 1_700_000_000)
    ));
    format!(
        "{header}.{payload}.{}",
        r.chars(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            43
        )
    )
}

fn pem(r: &mut Rng) -> String {
    let kind = r.pick(&["RSA ", "EC ", ""]);
    let body: Vec<String> = (0..4)
        .map(|_| STANDARD.encode((0..48).map(|_| r.below(256) as u8).collect::<Vec<u8>>()))
        .collect();
    format!(
        "-----BEGIN {kind}PRIVATE KEY-----\n{}\n-----END {kind}PRIVATE KEY-----",
        body.join("\n")
    )
}

fn ipv4(r: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        r.range(11, 223),
        r.range(0, 255),
        r.range(0, 255),
        r.range(1, 254)
    )
}

fn ipv6(r: &mut Rng) -> String {
    format!(
        "2001:db8:{:x}:{:x}::{:x}",
        r.range(1, 0xffff),
        r.range(1, 0xffff),
        r.range(1, 0xffff)
    )
}

fn url(r: &mut Rng) -> String {
    let host = r.pick(&[
        "www.example.com",
        "portal.example.org",
        "acme.io",
        "files.contoso.net",
    ]);
    let path = r.pick(&[
        "/account/settings",
        "/tickets/view",
        "/reset?token=abc",
        "/docs/guide.html",
        "",
    ]);
    format!("{}{host}{path}", r.pick(&["https://", "http://"]))
}

/// Text that looks like PII to a naive matcher but is not.
fn hard_negative(r: &mut Rng) -> String {
    match r.below(10) {
        0 => format!("Order #{} shipped.", r.digits(10)),
        1 => format!(
            "Tracking 1Z{}{}.",
            r.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3),
            r.digits(11)
        ),
        2 => format!(
            "Upgraded to version {}.{}.{}.{} yesterday.",
            r.range(1, 12),
            r.range(0, 9),
            r.range(0, 9),
            r.range(0, 20)
        ),
        3 => format!(
            "Request id {:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}.",
            r.next() as u32,
            r.range(0, 0xffff),
            r.range(0, 0xfff),
            r.range(0, 0xfff),
            r.next() & 0xffff_ffff_ffff
        ),
        4 => format!("sha256 {}", r.chars(b"0123456789abcdef", 64)),
        5 => "Test card 4111 1111 1111 1112 was declined as invalid.".to_string(),
        6 => format!("Invalid id 000-{}-{}.", r.digits(2), r.digits(4)),
        7 => format!(
            "ISBN 978-{}-{}-{}-{}",
            r.digits(1),
            r.digits(2),
            r.digits(6),
            r.digits(1)
        ),
        8 => format!(
            "Invoice INV-{} total ${}.{}",
            r.digits(6),
            r.range(10, 999),
            r.digits(2)
        ),
        _ => format!(
            "Build {} passed {} of {} checks.",
            r.digits(5),
            r.range(10, 99),
            r.range(100, 200)
        ),
    }
}

fn support_ticket(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push("Ticket: customer ");
    person(r, l, d);
    d.push(" (");
    d.entity("EMAIL_ADDRESS", &email(r, l));
    d.push(") reports a billing problem. ");
    match r.below(6) {
        0 => {
            d.push("Card on file ");
            d.entity("CREDIT_CARD", &card(r));
            d.push(" was charged twice.");
        }
        1 => {
            d.push("Refund to IBAN ");
            d.entity("IBAN_CODE", &iban(r));
            d.push(" please.");
        }
        2 => {
            d.push("Callback number: ");
            d.entity("PHONE_NUMBER", &phone(r));
            d.push(".");
        }
        3 => {
            d.push("Verified with SSN ");
            d.entity("US_SSN", &ssn(r));
            d.push(" and DOB ");
            date(r, d);
            d.push(".");
        }
        4 => {
            d.push("Checking account ");
            let len = r.range(9, 12) as usize;
            d.entity("US_BANK_NUMBER", &r.digits(len));
            d.push(" needs review.");
        }
        _ => {
            d.push("Customer moved to ");
            location(r, l, d);
            d.push(" last month.");
        }
    }
    d.push(" ");
    d.push(&hard_negative(r));
}

fn clinical_note(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push("Patient: ");
    person(r, l, d);
    d.push(", DOB ");
    date(r, d);
    d.push(". ");
    match r.below(5) {
        0 => {
            d.push("NHS number ");
            d.entity("UK_NHS", &nhs(r));
            d.push(". ");
        }
        1 => {
            d.push("Prescriber DEA ");
            d.entity("MEDICAL_LICENSE", &dea(r));
            d.push(". ");
        }
        2 => {
            d.push("Insurance on file; ITIN ");
            d.entity("US_ITIN", &itin(r));
            d.push(". ");
        }
        3 => {
            d.push("Lives in ");
            location(r, l, d);
            d.push(". ");
        }
        _ => {
            d.push("Emergency contact ");
            person(r, l, d);
            d.push(" at ");
            d.entity("PHONE_NUMBER", &phone(r));
            d.push(". ");
        }
    }
    d.push("Seen by ");
    person(r, l, d);
    d.push(" for follow-up of hypertension; BP 128/82, dose 2.5 mg.");
}

fn chat(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push(r.pick(&["Hi ", "Hello ", "Hey "]));
    first_only(r, l, d);
    d.push(r.pick(&[", ", "! "]));
    match r.below(7) {
        0 => {
            d.push("my number is ");
            d.entity("PHONE_NUMBER", &phone(r));
            d.push(" 😊");
        }
        1 => {
            d.push("send the BTC to ");
            d.entity("CRYPTO", &bitcoin(r));
            d.push(" ok?");
        }
        2 => {
            d.push("my passport number is ");
            d.entity("US_PASSPORT", &r.digits(9));
            d.push(", flying to ");
            location(r, l, d);
            d.push(" tomorrow ✈️");
        }
        3 => {
            d.push("my driver's license is ");
            d.entity(
                "US_DRIVER_LICENSE",
                &format!("{}{}", r.chars(b"ABCDEFGHJKLMNPRSTUVWXYZ", 1), r.digits(7)),
            );
            d.push(".");
        }
        4 => {
            d.push("the meeting with ");
            person(r, l, d);
            d.push(" is on ");
            date(r, d);
            d.push(" — see ");
            d.entity("URL", &url(r));
        }
        5 => {
            d.push("I'm in ");
            location(r, l, d);
            d.push(" this week, mail me at ");
            d.entity("EMAIL_ADDRESS", &email(r, l));
        }
        _ => {
            d.push("my SSN is ");
            let s = ssn(r);
            d.entity("US_SSN", &if r.chance(50) { s.replace('-', "") } else { s });
            d.push(", is that safe? 🤔");
        }
    }
    d.push(" — ");
    first_only(r, l, d);
}

fn log_line(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push("[");
    d.entity("DATE_TIME", &timestamp(r));
    d.push("] ");
    match r.below(8) {
        0 => {
            d.push("INFO login ok user=");
            d.entity("EMAIL_ADDRESS", &email(r, l));
            d.push(" ip=");
            d.entity("IP_ADDRESS", &ipv4(r));
        }
        1 => {
            d.push("WARN connection from ");
            d.entity("IP_ADDRESS", &ipv6(r));
            d.push(" refused");
        }
        2 => {
            d.push("DEBUG env AWS_ACCESS_KEY_ID=");
            d.entity(
                "AWS_ACCESS_KEY",
                &format!("AKIA{}", r.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
            );
        }
        3 => {
            d.push("DEBUG request Authorization: Bearer ");
            d.entity("JWT", &jwt(r));
        }
        4 => {
            d.push("ERROR config dump api_key=");
            d.entity("API_KEY", &api_key(r));
        }
        5 => {
            d.push("ERROR leaked secret in payload:\n");
            d.entity("PRIVATE_KEY", &pem(r));
        }
        6 => {
            d.push("INFO GET ");
            d.entity("URL", &url(r));
            d.push(" 200 from ");
            d.entity("IP_ADDRESS", &ipv4(r));
        }
        _ => {
            d.push("INFO ");
            d.push(&hard_negative(r));
        }
    }
}

fn email_thread(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push("From: ");
    person(r, l, d);
    d.push(" <");
    d.entity("EMAIL_ADDRESS", &email(r, l));
    d.push(">\nSubject: ");
    d.push(r.pick(&[
        "Re: your request",
        "Contract renewal",
        "Quick question",
        "Fwd: invoice",
    ]));
    d.push("\n\nDear ");
    first_only(r, l, d);
    d.push(",\n\n");
    match r.below(5) {
        0 => {
            d.push("As discussed, I'll be in ");
            location(r, l, d);
            d.push(" from ");
            date(r, d);
            d.push(". You can reach me on ");
            d.entity("PHONE_NUMBER", &phone(r));
            d.push(".");
        }
        1 => {
            d.push("Please wire the deposit to ");
            d.entity("IBAN_CODE", &iban(r));
            d.push(" before Friday.");
        }
        2 => {
            d.push("The shared folder is at ");
            d.entity("URL", &url(r));
            d.push(" (ask ");
            person(r, l, d);
            d.push(" for access).");
        }
        3 => {
            d.push("For the background check we need your social security number; you sent ");
            d.entity("US_SSN", &ssn(r));
            d.push(".");
        }
        _ => {
            d.push("I paid with my Visa ending in ");
            d.push(&r.digits(4));
            d.push(", the full number was ");
            d.entity("CREDIT_CARD", &card(r));
            d.push(".");
        }
    }
    d.push("\n\nBest regards,\n");
    person(r, l, d);
}

fn shipping_form(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push("Ship to: ");
    person(r, l, d);
    d.push(", ");
    d.push(&format!(
        "{} {} Street, ",
        r.range(1, 9999),
        r.pick(&["Oak", "Maple", "Cedar", "Elm", "Pine"])
    ));
    location(r, l, d);
    d.push(&format!(" {}", r.digits(5)));
    d.push(". Phone ");
    d.entity("PHONE_NUMBER", &phone(r));
    d.push(". Delivery window ");
    date(r, d);
    d.push(". ");
    d.push(&hard_negative(r));
}

fn json_log(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push("{\"ts\":\"");
    d.entity("DATE_TIME", &timestamp(r));
    d.push("\",\"level\":\"info\",\"user\":\"");
    d.entity("EMAIL_ADDRESS", &email(r, l));
    d.push("\",\"remote_addr\":\"");
    if r.chance(70) {
        d.entity("IP_ADDRESS", &ipv4(r));
    } else {
        d.entity("IP_ADDRESS", &ipv6(r));
    }
    match r.below(4) {
        0 => {
            d.push("\",\"headers\":{\"authorization\":\"Bearer ");
            d.entity("JWT", &jwt(r));
            d.push("\"}}");
        }
        1 => {
            d.push("\",\"github_token\":\"");
            d.entity("API_KEY", &format!("ghp_{}", r.chars(ALNUM, 36)));
            d.push("\"}");
        }
        2 => {
            d.push("\",\"wallet\":\"");
            d.entity("CRYPTO", &bitcoin(r));
            d.push("\"}");
        }
        _ => {
            d.push("\",\"msg\":\"");
            d.push(&hard_negative(r));
            d.push("\"}");
        }
    }
}

fn intake_form(r: &mut Rng, l: &Lists, d: &mut Doc) {
    d.push("INTAKE — Name: ");
    person(r, l, d);
    d.push(" | Date of birth: ");
    date(r, d);
    d.push(" | ");
    match r.below(4) {
        0 => {
            d.push("Passport: ");
            d.entity("US_PASSPORT", &r.digits(9));
        }
        1 => {
            d.push("DL#: ");
            d.entity(
                "US_DRIVER_LICENSE",
                &format!("{}{}", r.chars(b"ABCDEFGHJKLMNPRSTUVWXYZ", 1), r.digits(7)),
            );
        }
        2 => {
            d.push("Bank acct: ");
            let len = r.range(8, 12) as usize;
            d.entity("US_BANK_NUMBER", &r.digits(len));
        }
        _ => {
            d.push("NHS no. ");
            d.entity("UK_NHS", &nhs(r));
        }
    }
    d.push(" | Referred by Dr ");
    let last = r.pick(&l.last_heldout);
    d.entity("PERSON", last);
    d.push(" (DEA ");
    d.entity("MEDICAL_LICENSE", &dea(r));
    d.push(") | Notes: patient travelled from ");
    location(r, l, d);
    d.push(" last week, née ");
    let maiden = r.pick(INTL_LAST);
    d.entity("PERSON", maiden);
    d.push(".");
}

fn heldout(r: &mut Rng, l: &Lists, id: usize, d: &mut Doc) -> &'static str {
    match id % 4 {
        0 => {
            email_thread(r, l, d);
            "email"
        }
        1 => {
            shipping_form(r, l, d);
            "shipping_form"
        }
        2 => {
            json_log(r, l, d);
            "json_log"
        }
        _ => {
            intake_form(r, l, d);
            "intake_form"
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let held = args.first().is_some_and(|a| a == "--heldout");
    let rest: Vec<&String> = args.iter().filter(|a| *a != "--heldout").collect();
    let default = if held {
        "analysis/eval/heldout.jsonl"
    } else {
        "analysis/eval/dataset.jsonl"
    };
    let out = rest.first().map_or(default.to_string(), |s| s.to_string());
    let lists = Lists::load();
    let mut r = Rng(if held {
        0x6865_6c64_6f75_7421
    } else {
        0x6775_6172_6472_6169
    });
    let mut jsonl = String::new();
    let count = if held { 600 } else { 1200 };
    for id in 0..count {
        let mut d = Doc::default();
        let kind = if held {
            heldout(&mut r, &lists, id, &mut d)
        } else {
            match id % 4 {
                0 => {
                    support_ticket(&mut r, &lists, &mut d);
                    "support_ticket"
                }
                1 => {
                    clinical_note(&mut r, &lists, &mut d);
                    "clinical_note"
                }
                2 => {
                    chat(&mut r, &lists, &mut d);
                    "chat"
                }
                _ => {
                    log_line(&mut r, &lists, &mut d);
                    "log"
                }
            }
        };
        let spans: Vec<serde_json::Value> = d
            .spans
            .iter()
            .map(|(t, s, e)| serde_json::json!({"type": t, "start": s, "end": e}))
            .collect();
        let line = serde_json::json!({"id": id, "kind": kind, "text": d.text, "spans": spans});
        writeln!(jsonl, "{line}").unwrap();
    }
    std::fs::write(&out, jsonl).unwrap_or_else(|e| panic!("cannot write {out}: {e}"));
    eprintln!("wrote {count} records to {out}");
}
