//! The words that name rules look for: titles (shared with `build.rs`, which marks them in the
//! gazetteer), cue phrases, particles and company suffixes.

/// Titles before a name (`Dr. Okonkwo`, `nurse Blümel`).
pub const TITLES: &[&str] = &[
    "dr",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "prof",
    "professor",
    "doctor",
    "nurse",
    "sir",
    "dame",
    "rev",
    "capt",
    "judge",
];

/// Phrases right before a capitalised word that introduce a person.
pub const PERSON_CUES: &[&str] = &[
    "name is ",
    "name: ",
    "names: ",
    "i'm ",
    "i am ",
    "this is ",
    "patient ",
    "patient: ",
    "dear ",
    "hi ",
    "hello ",
    "hey ",
    "thanks ",
    "thanks, ",
    "thanks,\n",
    "thank you ",
    "thank you,\n",
    "best,\n",
    "cheers,\n",
    "regards, ",
    "regards,\n",
    "sincerely, ",
    "sincerely,\n",
    "faithfully,\n",
    "truly,\n",
    "wishes,\n",
    "cc ",
    "attn ",
    "signed ",
    "from: ",
    "to: ",
    "customer ",
    "agent ",
    "user ",
    "contact ",
    "spoke with ",
    "named ",
    "called ",
    "by ",
    "with ",
    "ask ",
    "met ",
    // Form and ticket labels naming a person's role.
    "customer: ",
    "client: ",
    "contact: ",
    "passenger: ",
    "traveler: ",
    "traveller: ",
    "guest: ",
    "employee: ",
    "member: ",
    "holder: ",
    "beneficiary: ",
    "recipient: ",
    "sender: ",
    "applicant: ",
    "claimant: ",
    "insured: ",
    "policyholder: ",
    "tenant: ",
    "student: ",
    "pupil: ",
    "captain: ",
    "coach: ",
    "chair: ",
    "witness: ",
    "landlord: ",
    "candidate: ",
    "attendee: ",
    "attending: ",
    "physician: ",
    "bill to: ",
    "owner: ",
    "requester: ",
    "assignee: ",
    "assigned to ",
    "referred by ",
    "seen by ",
    // Who wrote a note or called.
    "note from ",
    "message from ",
    "reply from ",
    "email from ",
    "call from ",
    // A role in lower case before a name.
    "nurse ",
    "doctor ",
    "midwife ",
    "therapist ",
    "pharmacist ",
    "officer ",
    "colleague ",
    "manager ",
    "teacher ",
    // Who a payment or a document is for or from.
    "transfer from ",
    "transfer to ",
    "payment to ",
    "payment from ",
    "paid to ",
    "received from ",
    "order to ",
    "statement for ",
    "prepared for ",
    "booking for ",
    "reservation for ",
    "appointment for ",
    // A family name at birth.
    "née ",
    "nee ",
    "said ",
    "says ",
    "asked ",
];
/// Dashes that sign a message when a name follows them and ends the line (`— Shaina`,
/// `-- Jeremy Bicha <…>`); a dash before other words starts a list item.
pub const SIGNATURE_DASHES: &[&str] = &["- ", "— ", "– "];

/// Phrases right after a name that make it a person's (`Anna wrote:` above a quoted reply).
pub const PERSON_AFTER_CUES: &[&str] = &[" wrote:", " writes:", " wrote on "];

/// Endings of family names in many languages, in the form the gazetteers compare
/// (`Baimuratova`, `Kuvaev`, `Andrushchenko`, `Duchnowska`, `Starradottir`, `Eksioglu`,
/// `Papadopoulos`): a capitalised word with one, after a capitalised word, ends a name.
pub const SURNAME_ENDINGS: &[&str] = &[
    "ova", "ov", "eva", "ev", "enko", "chuk", "czuk", "ski", "ska", "sky", "cki", "cka", "wicz",
    "vich", "dottir", "sson", "oglu", "opoulos", "idis", "akis", "escu", "shvili", "dze",
];

/// Endings of family names that folding to Latin letters would blur, as written (`Barbarić`,
/// `Aslanlı`).
pub const SURNAME_ENDINGS_AS_WRITTEN: &[&str] = &["ić", "lı"];

/// Words after a name that make it a company (`Garcia LLC`, `Payne, Roberts and Walsh Ltd`).
pub const COMPANY_SUFFIXES: &[&str] = &[
    "inc", "llc", "ltd", "plc", "llp", "corp", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl",
    "spa", "bv", "nv", "oy", "ab", "as", "aps", "group", "sons", "co",
];
/// Bytes of the longest [`COMPANY_SUFFIXES`] entry.
pub const LONGEST_COMPANY_SUFFIX: usize = {
    let (mut longest, mut i) = (0, 0);
    while i < COMPANY_SUFFIXES.len() {
        if COMPANY_SUFFIXES[i].len() > longest {
            longest = COMPANY_SUFFIXES[i].len();
        }
        i += 1;
    }
    longest
};
/// Phrases ending in `by ` after which a name is a company's (`Sold by Rodriguez-Hess`).
pub const COMPANY_CUES: &[&str] = &[
    "sold by ",
    "supplied by ",
    "shipped by ",
    "fulfilled by ",
    "operated by ",
    "powered by ",
    "provided by ",
    "issued by ",
    "published by ",
    "made by ",
    "manufactured by ",
    "distributed by ",
    "sponsored by ",
    "owned by ",
];
/// Lower-case particles inside a family name (`Anouk van den Corput`, `Breno da Costa`).
pub const PARTICLES: &[&str] = &[
    "van", "der", "den", "de", "da", "das", "do", "dos", "del", "della", "di", "du", "von", "zu",
    "ter", "ten", "le", "la", "bin", "binti", "ibn", "al", "el", "y",
];
/// Words right before a capitalised word that introduce a place.
pub const PLACE_CUES: &[&str] = &[
    " in ",
    " from ",
    " to ",
    " at ",
    " near ",
    " visiting ",
    " via ",
    " outside ",
    " across ",
    " based in ",
    " lives in ",
    " moved to ",
    " born in ",
    " located in ",
    "city: ",
    "place of birth: ",
    "residence: ",
    "location: ",
    "address: ",
];
