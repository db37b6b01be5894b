"""Writes eval/blind.jsonl: the blind evaluation set, never tuned on.

A second set built apart from both examples/gen_eval.rs and gen_independent.py: values come
from a different tool, Mimesis (pinned in scripts/test-requirements.txt), in its own locales,
and the document kinds and templates below were written for this set from how such documents
look (order confirmations, bank statements, referral letters, bookings, team chat threads, CSV
exports, JSON access logs, SMS reminders, insurance claims, and hard negatives), before any
score of it was seen. Recognisers are never changed after reading its documents or its errors:
tests/evaluation.rs scores it as a floor, and only its per-type totals are reported.

    target/test-venv/bin/python analysis/eval/gen_blind.py > analysis/eval/blind.jsonl

Each line: {"id", "kind", "text", "spans": [{"type", "start", "end"}]}, code-point offsets.
Labels: PERSON (full names, and a first name used to address or name someone), LOCATION (city,
country, state), DATE_TIME (dates and timestamps), EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD,
IBAN_CODE, US_SSN, IP_ADDRESS; street lines, ids and amounts are not labelled.
"""

import datetime
import json
import random
import string

from mimesis import Address, Internet, Locale, Payment, Person

SEED = 20_261_206
DOCUMENTS = 1500
START = datetime.datetime(1950, 1, 1)
SPAN_SECONDS = int((datetime.datetime(2030, 12, 31) - START).total_seconds())

NAME_LOCALES = [Locale.EN, Locale.EN_GB, Locale.DE, Locale.FR, Locale.ES, Locale.IT, Locale.PL,
                Locale.PT_BR, Locale.NL, Locale.SV, Locale.CS, Locale.TR, Locale.DA, Locale.FI,
                Locale.RU, Locale.EL, Locale.UK]
PLACE_LOCALES = [Locale.EN, Locale.DE, Locale.FR, Locale.ES, Locale.IT, Locale.PL, Locale.NL,
                 Locale.PT_BR, Locale.SV]

rnd = random.Random(SEED)
people = {loc: Person(loc, seed=SEED + i) for i, loc in enumerate(NAME_LOCALES)}
places = {loc: Address(loc, seed=SEED + 100 + i) for i, loc in enumerate(PLACE_LOCALES)}
english_places = Address(Locale.EN, seed=SEED + 200)
net = Internet(seed=SEED + 300)
pay = Payment(seed=SEED + 400)
english = Person(Locale.EN, seed=SEED + 500)


class Doc:
    """Text assembled piece by piece, with the gold spans of the labelled pieces."""

    def __init__(self, kind):
        self.kind = kind
        self.text = ""
        self.spans = []

    def t(self, text):
        self.text += text
        return self

    def e(self, entity, text):
        self.spans.append({"type": entity, "start": len(self.text),
                           "end": len(self.text) + len(text)})
        self.text += text
        return self


def person():
    return people[rnd.choice(NAME_LOCALES)]


def full_name():
    p = person()
    return f"{p.first_name()} {p.last_name()}"


def first_name():
    return person().first_name()


def city():
    return places[rnd.choice(PLACE_LOCALES)].city()


def country():
    return english_places.country()


def moment():
    return START + datetime.timedelta(seconds=rnd.randrange(SPAN_SECONDS))


def date_text():
    at = moment()
    return at.strftime(rnd.choice([
        "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y", "%b %d, %Y",
        "%d.%m.%Y", "%A, %B %d, %Y",
    ]))


def timestamp_text():
    at = moment()
    return at.strftime(rnd.choice([
        "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%d %b %Y %H:%M", "%m/%d/%Y %I:%M %p",
    ]))


def phone():
    return rnd.choice([
        lambda: english.phone_number(mask="(###) ###-####"),
        lambda: english.phone_number(mask="+1 ###-###-####"),
        lambda: english.phone_number(mask="###.###.####"),
        lambda: "+44 20 " + english.phone_number(mask="#### ####"),
        lambda: "+49 30 " + english.phone_number(mask="########"),
        lambda: "+33 1 " + english.phone_number(mask="## ## ## ##"),
        lambda: "+48 " + english.phone_number(mask="### ### ###"),
    ])()


def email():
    return person().email()


def card():
    return pay.credit_card_number()


def luhn_ok(number):
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


IBAN_FORMATS = {"DE": 18, "FR": 23, "NL": None, "ES": 20, "IT": None, "GB": None, "BE": 12,
                "AT": 16, "PL": 24}


def iban():
    country_code = rnd.choice(["DE", "FR", "ES", "BE", "AT", "PL", "NL", "GB", "IT"])
    if country_code == "NL":
        bban = "".join(rnd.choice(string.ascii_uppercase) for _ in range(4)) + digits(10)
    elif country_code == "GB":
        bban = "".join(rnd.choice(string.ascii_uppercase) for _ in range(4)) + digits(14)
    elif country_code == "IT":
        bban = rnd.choice(string.ascii_uppercase) + digits(10) + digits(12)
    else:
        bban = digits(IBAN_FORMATS[country_code])
    rearranged = bban + country_code + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - number % 97
    value = f"{country_code}{check:02d}{bban}"
    if rnd.random() < 0.5:
        value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value


def digits(n):
    return "".join(rnd.choice(string.digits) for _ in range(n))


def ssn():
    while True:
        area = rnd.randrange(1, 900)
        if area != 666:
            break
    return f"{area:03d}-{rnd.randrange(1, 100):02d}-{rnd.randrange(1, 10000):04d}"


def ipv4():
    return net.ip_v4()


def ip():
    return net.ip_v6() if rnd.random() < 0.25 else ipv4()


def order_confirmation():
    d = Doc("order_confirmation")
    d.t(f"Order #{digits(8)} confirmed on ").e("DATE_TIME", date_text()).t(".\nShip to: ")
    d.e("PERSON", full_name()).t(f"\n{rnd.randrange(1, 999)} {english_places.street_name()} "
                                 f"{english_places.street_suffix()}\n")
    d.e("LOCATION", city()).t(", ").e("LOCATION", country()).t("\nCharged to card ")
    d.e("CREDIT_CARD", card()).t(f" — total ${rnd.randrange(5, 900)}.{digits(2)}\n")
    d.t("Questions? Reply to this mail or write to ").e("EMAIL_ADDRESS", email()).t(".\n")
    return d


def bank_statement():
    d = Doc("bank_statement")
    d.t("Account holder: ").e("PERSON", full_name()).t("\nIBAN: ").e("IBAN_CODE", iban())
    d.t("\nStatement period ").e("DATE_TIME", date_text()).t(" – ").e("DATE_TIME", date_text())
    d.t(f"\nIncoming transfer of EUR {rnd.randrange(10, 5000)},{digits(2)} from ")
    d.e("PERSON", full_name()).t(", reference INV/").t(digits(6)).t(".\n")
    return d


def referral_letter():
    d = Doc("referral_letter")
    d.t("Dear Dr. ").e("PERSON", person().last_name()).t(",\n\nI am referring my patient ")
    d.e("PERSON", full_name()).t(" (date of birth ").e("DATE_TIME", date_text())
    d.t(", SSN ").e("US_SSN", ssn()).t(") for a cardiology consultation. ")
    d.t("The patient can be reached at ").e("PHONE_NUMBER", phone()).t(".\n\nKind regards,\n")
    d.e("PERSON", full_name()).t("\n")
    return d


def booking():
    d = Doc("booking")
    ref = "".join(rnd.choice(string.ascii_uppercase) for _ in range(6))
    d.t(f"Booking {ref} for passenger ").e("PERSON", full_name()).t(": flight from ")
    d.e("LOCATION", city()).t(" to ").e("LOCATION", city()).t(" departing ")
    d.e("DATE_TIME", timestamp_text()).t(". Confirmation sent to ").e("EMAIL_ADDRESS", email())
    d.t(".\n")
    return d


def thread():
    d = Doc("team_thread")
    a, b = first_name(), first_name()
    d.e("PERSON", full_name()).t(" joined #ops\n")
    d.e("PERSON", a).t(": the box at ").e("IP_ADDRESS", ip()).t(" stopped answering at ")
    d.e("DATE_TIME", timestamp_text()).t("\n")
    d.e("PERSON", b).t(": rebooting it now, ping me if it comes back\n")
    d.e("PERSON", a).t(": thanks ").e("PERSON", b).t("\n")
    return d


def csv_export():
    d = Doc("csv_export")
    d.t("name,email,phone,city,signup\n")
    for _ in range(rnd.randrange(2, 5)):
        d.e("PERSON", full_name()).t(",").e("EMAIL_ADDRESS", email()).t(",")
        d.e("PHONE_NUMBER", phone()).t(",").e("LOCATION", city()).t(",")
        d.e("DATE_TIME", date_text().replace(",", "")).t("\n")
    return d


def access_log():
    d = Doc("access_log")
    for _ in range(rnd.randrange(1, 4)):
        d.t('{"ts":"').e("DATE_TIME", timestamp_text()).t('","user":"')
        d.e("EMAIL_ADDRESS", email()).t('","src_ip":"').e("IP_ADDRESS", ip())
        d.t(f'","status":{rnd.choice([200, 401, 403, 500])},"latency_ms":{rnd.randrange(1, 900)}}}\n')
    return d


def sms():
    d = Doc("sms")
    d.t("Hi ").e("PERSON", first_name()).t(", your appointment is on ").e("DATE_TIME", date_text())
    d.t(". To reschedule call ").e("PHONE_NUMBER", phone()).t(". Reply STOP to opt out.\n")
    return d


def insurance_claim():
    d = Doc("insurance_claim")
    d.t("CLAIM FORM\nClaimant: ").e("PERSON", full_name()).t("\nSocial Security No.: ")
    d.e("US_SSN", ssn()).t("\nIncident date: ").e("DATE_TIME", date_text())
    d.t("\nPlace of incident: ").e("LOCATION", english_places.city()).t(", ")
    d.e("LOCATION", english_places.state()).t("\nContact phone: ").e("PHONE_NUMBER", phone())
    d.t("\nDescription: rear-ended at a traffic light, bumper and tail light damaged.\n")
    return d


def hard_negative():
    d = Doc("hard_negative")
    pieces = [
        f"SKU {''.join(rnd.choice(string.ascii_uppercase) for _ in range(3))}-{digits(5)}-{digits(2)}",
        f"release v{rnd.randrange(0, 30)}.{rnd.randrange(0, 40)}.{rnd.randrange(0, 99)}",
        f"Windows build 10.0.{digits(5)}.{digits(4)}",
        f"tracking number 1Z{''.join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16))}",
        f"commit {''.join(rnd.choice('0123456789abcdef') for _ in range(40))}",
        f"coordinates {rnd.uniform(-80, 80):.4f}, {rnd.uniform(-170, 170):.4f}",
        f"invoice total {rnd.randrange(100, 99999)}.{digits(2)} EUR",
        f"part no. {digits(4)}-{digits(4)}-{digits(4)}",
        f"room {rnd.randrange(100, 999)}, floor {rnd.randrange(1, 30)}",
        f"{rnd.randrange(1, 100)}% of {rnd.randrange(1000, 99999)} requests",
        f"ticket {digits(3)}-{digits(3)}-{digits(4)} was closed",
        f"checksum {''.join(rnd.choice('0123456789abcdef') for _ in range(64))}",
    ]
    rnd.shuffle(pieces)
    d.t("Changelog: " + ". ".join(pieces[:rnd.randrange(3, 6)]) + ".\n")
    return d


KINDS = [order_confirmation, bank_statement, referral_letter, booking, thread, csv_export,
         access_log, sms, insurance_claim]


def main():
    for i in range(DOCUMENTS):
        make = hard_negative if rnd.random() < 0.2 else rnd.choice(KINDS)
        doc = make()
        for span in doc.spans:
            if span["type"] == "CREDIT_CARD":
                assert luhn_ok(doc.text[span["start"]:span["end"]]), doc.text
        print(json.dumps({"id": i, "kind": doc.kind, "text": doc.text, "spans": doc.spans},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
