"""Writes eval/notices.jsonl: a development set for names and places, tuned on.

Values come from Mimesis (pinned in scripts/test-requirements.txt), in more locales than any
other set, and the document kinds below are written for this set alone and share no template
with the others: meeting minutes, reference letters, visa applications, tenancy agreements,
forum replies, product reviews, school reports, delivery notes, team sheets, support threads,
court lists and local news. It exists so that the name and place rules can be developed on
people and places written by another tool without reading the blind set.

    target/test-venv/bin/python analysis/eval/gen_notices.py > analysis/eval/notices.jsonl

Each line: {"id", "kind", "text", "spans": [{"type", "start", "end"}]}, code-point offsets.
Labels: PERSON (full names, and a given or family name used alone for someone), LOCATION (city,
country), DATE_TIME (dates and times of day), EMAIL_ADDRESS; streets, ids and organisations are not labelled.
"""

import datetime
import json
import random

from mimesis import Address, Locale, Person

SEED = 20_261_207
DOCUMENTS = 1200
START = datetime.datetime(1950, 1, 1)
SPAN_DAYS = (datetime.datetime(2030, 12, 31) - START).days

NAME_LOCALES = [Locale.EN, Locale.EN_AU, Locale.EN_CA, Locale.DE_AT, Locale.DE_CH, Locale.FR,
                Locale.ES_MX, Locale.IT, Locale.PL, Locale.PT, Locale.NL_BE, Locale.NO,
                Locale.HU, Locale.HR, Locale.SK, Locale.ET, Locale.IS, Locale.TR, Locale.AZ,
                Locale.RU, Locale.KK, Locale.EL, Locale.UK]
PLACE_LOCALES = [Locale.EN, Locale.EN_AU, Locale.EN_CA, Locale.DE, Locale.FR, Locale.ES,
                 Locale.IT, Locale.PL, Locale.PT]

rnd = random.Random(SEED)
people = {loc: Person(loc, seed=SEED + i) for i, loc in enumerate(NAME_LOCALES)}
places = {loc: Address(loc, seed=SEED + 100 + i) for i, loc in enumerate(PLACE_LOCALES)}
english_places = Address(Locale.EN, seed=SEED + 200)


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


def someone():
    """Given name and family name of one person, from one locale."""
    p = people[rnd.choice(NAME_LOCALES)]
    return p.first_name(), p.last_name()


def full_name():
    first, last = someone()
    return f"{first} {last}"


def city():
    return places[rnd.choice(PLACE_LOCALES)].city()


def country():
    return english_places.country()


def date_text():
    at = START + datetime.timedelta(days=rnd.randrange(SPAN_DAYS))
    return at.strftime(rnd.choice(["%d %B %Y", "%B %d, %Y", "%Y-%m-%d", "%d/%m/%Y"]))


def names_list(d, count):
    """`A, B, C and D`, each a labelled full name."""
    for i in range(count):
        if i:
            d.t(" and " if i == count - 1 else ", ")
        d.e("PERSON", full_name())


def meeting_minutes():
    d = Doc("meeting_minutes")
    d.t("Minutes of the committee meeting held on ").e("DATE_TIME", date_text()).t("\n\nPresent: ")
    names_list(d, rnd.randrange(2, 5))
    d.t(".\nApologies: ").e("PERSON", full_name()).t(".\n\n")
    chair_first, chair_last = someone()
    d.e("PERSON", f"{chair_first} {chair_last}").t(" chaired the meeting. ")
    d.t("The treasurer, ").e("PERSON", full_name()).t(", presented the accounts; ")
    d.e("PERSON", chair_last).t(" asked for the figures to be checked again.\n")
    d.t("Action: ").e("PERSON", full_name()).t(" to circulate the draft by ")
    d.e("DATE_TIME", date_text()).t(".\n")
    return d


def reference_letter():
    d = Doc("reference_letter")
    first, last = someone()
    d.t("To whom it may concern,\n\nI have known ").e("PERSON", f"{first} {last}")
    d.t(" for four years as a colleague at our ").e("LOCATION", city()).t(" office. ")
    d.e("PERSON", first).t(" is careful, reliable and well liked by clients.\n\n")
    d.t("Please contact me at ").e("EMAIL_ADDRESS", people[Locale.EN].email())
    d.t(" with any questions.\n\nYours faithfully,\n").e("PERSON", full_name())
    d.t("\nHead of Operations\n")
    return d


def visa_application():
    d = Doc("visa_application")
    first, last = someone()
    d.t("VISA APPLICATION\nSurname: ").e("PERSON", last).t("\nGiven names: ").e("PERSON", first)
    d.t("\nDate of birth: ").e("DATE_TIME", date_text()).t("\nPlace of birth: ").e("LOCATION", city())
    d.t("\nCountry of residence: ").e("LOCATION", country())
    d.t("\nHost in the destination country: ").e("PERSON", full_name()).t("\n")
    return d


def tenancy_agreement():
    d = Doc("tenancy_agreement")
    d.t("This agreement is made on ").e("DATE_TIME", date_text()).t(" between ")
    d.e("PERSON", full_name()).t(" (the Landlord) and ").e("PERSON", full_name())
    d.t(" (the Tenant) for the flat at ").t(english_places.address()).t(", ")
    d.e("LOCATION", city()).t(". Rent is due on the first day of each month.\n")
    return d


def forum_reply():
    d = Doc("forum_reply")
    first_a, _ = someone()
    first_b, last_b = someone()
    d.t("Re: driver keeps crashing after the update\n\n")
    d.e("PERSON", first_a).t(" wrote:\n> Rolling back to the previous version fixed it for me.\n\n")
    d.t("Thanks ").e("PERSON", first_a).t(", that worked here too. ")
    d.t("Posted by ").e("PERSON", f"{first_b} {last_b}").t(" from ").e("LOCATION", city())
    d.t(".\n")
    return d


def product_review():
    d = Doc("product_review")
    first, last = someone()
    reviewer = f"{first} {last[0]}."
    d.t("★★★★☆ Reviewed by ").e("PERSON", reviewer).t(" in ").e("LOCATION", country())
    d.t(" on ").e("DATE_TIME", date_text()).t("\n")
    staff, _ = someone()
    d.t("Quick delivery, and ").e("PERSON", staff)
    d.t(" from customer service sorted out the wrong size straight away.\n")
    return d


def school_report():
    d = Doc("school_report")
    first, last = someone()
    _, tutor = someone()
    d.t("End of term report\nPupil: ").e("PERSON", f"{first} {last}")
    d.t("\nForm tutor: Mrs ").e("PERSON", tutor).t("\n\n")
    d.e("PERSON", first).t(" has worked hard this term and should be proud of the progress made in ")
    d.t("mathematics. Parents' evening is on ").e("DATE_TIME", date_text()).t(".\n")
    return d


def delivery_note():
    d = Doc("delivery_note")
    first, _ = someone()
    d.t("Parcel delivered on ").e("DATE_TIME", date_text()).t(" to ").e("PERSON", full_name())
    d.t(", ").e("LOCATION", city()).t(". Signed for by ").e("PERSON", first)
    d.t(" (neighbour).\n")
    return d


def team_sheet():
    d = Doc("team_sheet")
    d.t("Team sheet for Saturday\nGoalkeeper: ").e("PERSON", full_name()).t("\nDefenders: ")
    names_list(d, 3)
    d.t("\nCaptain: ").e("PERSON", full_name()).t("\nCoach: ").e("PERSON", full_name()).t("\n")
    return d


def support_thread():
    d = Doc("support_thread")
    first, last = someone()
    agent, _ = someone()
    email = people[Locale.EN].email()
    d.t("From: ").e("PERSON", f"{first} {last}").t(" <").e("EMAIL_ADDRESS", email).t(">\n")
    d.t("Subject: refund for order\n\nHi ").e("PERSON", agent).t(",\n\n")
    d.t("I returned the jacket two weeks ago and have not been refunded yet.\n\nBest,\n")
    d.e("PERSON", first).t("\n")
    return d


def court_list():
    d = Doc("court_list")
    _, judge = someone()
    d.t("Daily cause list, ").e("DATE_TIME", date_text()).t("\nBefore Judge ").e("PERSON", judge)
    d.t("\n").e("DATE_TIME", "10:00").t(" ").e("PERSON", full_name()).t(" v ")
    d.e("PERSON", full_name()).t(" (adjourned)\n").e("DATE_TIME", "11:30").t(" In the matter of ")
    d.e("PERSON", full_name()).t(", deceased\n")
    return d


def local_news():
    d = Doc("local_news")
    first, last = someone()
    d.e("PERSON", f"{first} {last}").t(f", {rnd.randrange(19, 90)}, of ").e("LOCATION", city())
    d.t(", has won the regional baking prize. \"I never expected it,\" said ").e("PERSON", last)
    d.t(", who learned from ").e("PERSON", full_name()).t(" in ").e("LOCATION", country())
    d.t(".\n")
    return d


KINDS = [meeting_minutes, reference_letter, visa_application, tenancy_agreement, forum_reply,
         product_review, school_report, delivery_note, team_sheet, support_thread, court_list,
         local_news]


def main():
    for i in range(DOCUMENTS):
        d = rnd.choice(KINDS)()
        print(json.dumps({"id": f"notice-{i:04d}", "kind": d.kind, "text": d.text,
                          "spans": d.spans}, ensure_ascii=False))


if __name__ == "__main__":
    main()
