"""Writes eval/forms.jsonl: a development set of business documents for names and places.

The blind set's documents are never read, only its kinds (order confirmations, bank statements,
referral letters, bookings, team chats, CSV exports, JSON logs, SMS reminders, insurance claims,
hard negatives: docs/performance.md). This set has documents of those kinds, written apart from
it with other templates and another tool (Faker, pinned in scripts/test-requirements.txt), so
that the errors of names and places in such documents can be read and worked on here. It is a
development set: recognizers are tuned on it, so its scores are optimistic.

    target/test-venv/bin/python analysis/eval/gen_forms.py > analysis/eval/forms.jsonl

Each line: {"id", "kind", "text", "spans": [{"type", "start", "end"}]}, code-point offsets.
Labelled: PERSON, LOCATION (cities, states, countries; not street lines), DATE_TIME,
EMAIL_ADDRESS.
"""

import datetime
import json
import os
import random
import sys

# NB: some Faker locales keep names in sets, whose order follows the string hash: fixed here so
# the set is the same on every run.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})

from faker import Faker

SEED = 6_12_2026
DOCUMENTS = 1000
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "nl_NL", "pt_BR",
           "sv_SE", "da_DK", "fi_FI", "cs_CZ", "tr_TR", "ro_RO", "hu_HU", "no_NO"]
START = datetime.datetime(2020, 1, 1)
END = datetime.datetime(2026, 6, 30)

fake = Faker(LOCALES)
Faker.seed(SEED)
rnd = random.Random(SEED)
us = fake["en_US"]


class Doc:
    """Text assembled piece by piece, with the gold spans of the labelled pieces."""

    def __init__(self, kind):
        self.kind, self.parts, self.spans, self.length = kind, [], [], 0

    def __call__(self, *pieces):
        for piece in pieces:
            text, entity = piece if isinstance(piece, tuple) else (piece, None)
            if entity:
                self.spans.append({"type": entity, "start": self.length,
                                   "end": self.length + len(text)})
            self.parts.append(text)
            self.length += len(text)
        return self

    def record(self, i):
        return {"id": i, "kind": self.kind, "text": "".join(self.parts), "spans": self.spans}


def loc():
    return fake[rnd.choice(LOCALES)]


def first(f=None):
    return ((f or loc()).first_name(), "PERSON")


def last(f=None):
    return ((f or loc()).last_name(), "PERSON")


def full(f=None):
    f = f or loc()
    return (f"{f.first_name()} {f.last_name()}", "PERSON")


def city(f=None):
    return ((f or loc()).city(), "LOCATION")


def country():
    name = us.country()
    while "(" in name or "," in name:
        name = us.country()
    return (name, "LOCATION")


def date():
    d = us.date_between_dates(START, END)
    return (d.strftime(rnd.choice(["%d %B %Y", "%Y-%m-%d", "%d/%m/%Y", "%B %d, %Y"])), "DATE_TIME")


def email():
    return (us.email(), "EMAIL_ADDRESS")


def street(f):
    return f.street_address().replace("\n", ", ")


def order():
    f = loc()
    return Doc("order")(
        f"Order {rnd.randint(10000, 99999)}-{rnd.choice('ABCDEFGH')} confirmed on ", date(), "\n",
        "Deliver to: ", full(f), "\n", street(f), "\n", f.postcode(), " ", city(f), "\n",
        country(), "\n", f"Items: {us.word().title()} {us.word()} x{rnd.randint(1, 4)}\n",
        "Sold by ", us.company(), ". Questions? ", email(), "\n")


def statement():
    f = loc()
    d = Doc("statement")("Account statement for ", full(f), "\nPeriod ending ", date(), "\n")
    for _ in range(rnd.randint(2, 4)):
        kind = rnd.random()
        d(date(), "  ")
        if kind < 0.4:
            d("Card payment ", us.company(), ", ", city(f), f"  -{rnd.randint(3, 300)}.{rnd.randint(10, 99)}\n")
        elif kind < 0.7:
            d("Transfer from ", full(), f"  +{rnd.randint(20, 2000)}.00\n")
        else:
            d("Standing order to ", full(f), f"  -{rnd.randint(20, 900)}.00\n")
    return d


def referral():
    f = loc()
    doctor = last(f)
    return Doc("referral")(
        "Dear Dr. ", doctor, ",\n\nI would be grateful if you could see ", full(f), ", born ",
        date(), ", who has had recurring headaches since moving from ", city(f), ". ",
        rnd.choice(["Her", "His"]), " GP in ", city(f), " has been informed.\n\nKind regards,\n",
        full(f), "\n", us.company(), " Medical Practice\n")


def booking():
    f = loc()
    d = Doc("booking")(f"Booking {us.bothify('??#??#').upper()}: ", full(f), ", ",
                       str(rnd.randint(1, 9)), " nights at ", f"{us.last_name()} Hotel", ", ", city(f), ", ",
                       country(), ". Arrival ", date(), ".\nGuests: ", full(f))
    if rnd.random() < 0.5:
        d(" and ", full(f))
    return d("\n")


def chat():
    people = [first() for _ in range(3)]
    d = Doc("chat")
    for _ in range(rnd.randint(3, 6)):
        speaker = rnd.choice(people)
        d(speaker, ": ")
        roll = rnd.random()
        if roll < 0.3:
            d("can you ask ", rnd.choice(people), " about the release?\n")
        elif roll < 0.5:
            d("I'm in ", city(), " until ", date(), "\n")
        elif roll < 0.7:
            d("thanks ", rnd.choice(people), "!\n")
        else:
            d(us.sentence(nb_words=6), "\n")
    return d


def csv_export():
    d = Doc("csv")("id,first_name,last_name,email,city,country,signup\n")
    for i in range(rnd.randint(2, 5)):
        f = loc()
        d(f"{i + 1},", first(f), ",", last(f), ",", email(), ",", city(f), ",", country(), ",",
          date(), "\n")
    return d


def json_log():
    d = Doc("json")
    for _ in range(rnd.randint(1, 3)):
        f = loc()
        d('{"ts": "', date(), '", "event": "login", "user": "', full(f), '", "geo": {"city": "',
          city(f), '", "country": "', country(), '"}, "ok": true}\n')
    return d


def sms():
    f = loc()
    return Doc("sms")("Hi ", first(f), ", this is a reminder of your appointment with ",
                      rnd.choice(["Dr. ", "nurse "]), last(f), " on ", date(),
                      ". Reply C to cancel. ", us.company(), "\n")


def claim():
    f = loc()
    return Doc("claim")(
        f"Claim {rnd.randint(100000, 999999)}\nPolicy holder: ", full(f), "\nDate of loss: ",
        date(), "\nPlace of loss: ", city(f), ", ", country(), "\nWitness: ", full(f),
        "\nAdjuster: ", full(), "\nDescription: ", us.sentence(nb_words=10), "\n")


def negative():
    roll = rnd.random()
    if roll < 0.3:
        return Doc("negative")(f"Vendor: {us.company()}\nContact: ", email(), "\nTerms: net 30\n")
    if roll < 0.6:
        return Doc("negative")(f"Release {rnd.randint(1, 9)}.{rnd.randint(0, 20)} ({us.catch_phrase()})\n"
                               f"{us.bs().capitalize()}.\n")
    return Doc("negative")(f"{us.catch_phrase()} — {us.company()} {us.company_suffix()}\n"
                           f"Product: {us.word().title()} {us.word().title()} {rnd.randint(100, 999)}\n")


KINDS = [order, statement, referral, booking, chat, csv_export, json_log, sms, claim, negative]


def main():
    for i in range(DOCUMENTS):
        sys.stdout.write(json.dumps(rnd.choice(KINDS)().record(i), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
