"""Deterministic synthetic news corpus for ``bench/reality.py`` (invented companies and events).

Each base article is one event (company x template x random figures) with body filler drawn
from a sentence pool; some are followed by syndicated copies (dateline, credits, small word
edits) and some by an independent rewrite of the same event on another outlet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from em_reality import articles

SYLLABLES = (
    "vol",
    "tra",
    "quan",
    "tix",
    "hal",
    "vor",
    "sen",
    "bright",
    "line",
    "ar",
    "dent",
    "coin",
    "vault",
    "stream",
    "ly",
    "nord",
    "havn",
    "kes",
    "trel",
    "sa",
    "ble",
    "car",
    "go",
    "way",
    "pio",
    "neer",
    "as",
    "ter",
    "cop",
    "per",
    "he",
    "lio",
    "ti",
    "de",
    "me",
    "tro",
    "lu",
    "mos",
    "sun",
    "field",
    "ve",
    "ri",
    "tas",
    "north",
    "gate",
)
SUFFIXES = (
    "Motors",
    "Computing",
    "Semiconductors",
    "Aerospace",
    "Bank",
    "AI",
    "Energy",
    "Pharma",
    "Foods",
    "Shipping",
    "Mining",
    "Retail",
    "Games",
    "Solar",
    "Airlines",
)
FIRST = ("Dana", "Lin", "Sam", "Mira", "Tom", "Ana", "Mark", "Priya", "Helena", "Joe", "Rosa")
LAST = ("Whitfield", "Okafor", "Reyes", "Castell", "Alder", "Ruiz", "Devlin", "Raman", "Brandt")
CITIES = ("Monterrey", "Austin", "Lyon", "Osaka", "Gdansk", "Porto", "Leeds", "Perth")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
OUTLETS = tuple(f"outlet{n:02d}.example{n % 7}.com" for n in range(40))
SYNDICATORS = tuple(f"portal{n}.syndicate{n}.org" for n in range(8))

# (title, lead, rewrite title, rewrite lead); slots filled per event.
TEMPLATES = (
    (
        "{name} recalls {n:,} vehicles over faulty {part}",
        "{name} is recalling about {n:,} vehicles because the {part} may fail, regulators said on "
        "{day}. The company said it knew of no injuries.",
        "{short} to fix {part} on {n:,} cars",
        "Regulators said on {day} that {short} will repair roughly {n:,} cars after finding a "
        "problem with the {part}; no injuries were reported.",
    ),
    (
        "{name} profit rises {pct}% to ${amt} billion, beats estimates",
        "{name} said on {day} its quarterly profit rose {pct}% to ${amt} billion, beating analyst "
        "estimates as demand stayed strong.",
        "{short} beats forecasts as quarterly profit climbs to ${amt} billion",
        "Quarterly profit at {short} climbed {pct}% to ${amt} billion, the company reported on "
        "{day}, ahead of what analysts had expected.",
    ),
    (
        "{name} to cut {n:,} jobs as sales slump",
        "{name} will eliminate about {n:,} jobs, chief executive {ceo} told staff on {day}, as "
        "sales slump and costs rise.",
        "{short} announces {n:,} layoffs",
        "Chief executive {ceo} said on {day} that {short} would lay off roughly {n:,} workers "
        "after a slump in sales.",
    ),
    (
        "{name} shares plunge {pct}% after regulator opens probe",
        "Shares of {name} fell {pct}% on {day} after regulators opened an investigation into its "
        "accounting practices.",
        "Regulator probes {short}; stock tumbles {pct}%",
        "{short} stock tumbled {pct}% on {day} when regulators said they were investigating how "
        "the company books revenue.",
    ),
    (
        "{name} wins ${amt} billion contract to build plant in {city}",
        "{name} won a ${amt} billion contract on {day} to build a new plant near {city}, its "
        "largest project this decade.",
        "{short} lands ${amt} billion {city} plant deal",
        "A ${amt} billion contract for a plant near {city} went to {short}, officials announced "
        "on {day}.",
    ),
    (
        "{name} chief executive {ceo} resigns",
        "{name} said on {day} that chief executive {ceo} had resigned with immediate effect and "
        "that the board had begun a search for a successor.",
        "{ceo} steps down as {short} CEO",
        "{ceo} has stepped down as chief executive of {short}, the company announced on {day}; a "
        "successor search is under way.",
    ),
    (
        "{name} agrees to buy rival for ${amt} billion",
        "{name} agreed on {day} to buy a smaller rival for ${amt} billion in cash, a {pct}% "
        "premium, subject to regulatory approval.",
        "{short} strikes ${amt} billion takeover deal",
        "{short} will pay ${amt} billion in cash for a rival, a {pct}% premium, the companies "
        "said on {day}; regulators must approve.",
    ),
    (
        "{name} fined ${amt} million over data breach",
        "Regulators fined {name} ${amt} million on {day} over a breach that exposed the data of "
        "{n:,} customers.",
        "{short} hit with ${amt} million penalty after breach",
        "A ${amt} million penalty was imposed on {short} on {day} after a breach exposed "
        "information on {n:,} customers.",
    ),
)
PARTS = ("seat-belt chime", "brake sensor", "airbag inflator", "rear camera", "fuel pump")
FUNCTION_WORDS = (
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "for",
    "on",
    "with",
    "as",
    "by",
    "that",
    "at",
    "from",
    "its",
    "was",
    "it",
    "has",
    "have",
    "will",
    "but",
    "not",
)
VOCAB_SYLLABLES = (
    "ba",
    "ko",
    "ri",
    "men",
    "tal",
    "vor",
    "sen",
    "dus",
    "pla",
    "gri",
    "ton",
    "mar",
    "lek",
    "fi",
    "nor",
    "que",
    "sta",
    "pol",
    "dra",
    "vin",
    "cul",
    "ter",
    "hal",
    "sim",
    "bro",
    "gen",
    "lum",
    "pex",
    "rad",
    "zo",
    "ful",
    "wen",
    "cas",
    "dor",
    "ment",
    "tion",
    "ing",
    "al",
    "er",
    "ous",
)


class Vocabulary:
    """Pseudo-words with Zipf frequencies: unrelated texts share common words, not rare ones."""

    def __init__(self, rng: random.Random, size: int = 20000) -> None:
        words: set[str] = set()
        while len(words) < size:
            words.add("".join(rng.choice(VOCAB_SYLLABLES) for _ in range(rng.randint(2, 3))))
        self.words = sorted(words)
        rng.shuffle(self.words)
        total = 0.0
        self.cumulative: list[float] = []
        for rank in range(1, size + 1):
            total += 1.0 / (rank + 100)  # content words: no single word dominates
            self.cumulative.append(total)

    def sentence(self, rng: random.Random) -> str:
        length = rng.randint(10, 18)
        picks = rng.choices(self.words, cum_weights=self.cumulative, k=length)
        words = [rng.choice(FUNCTION_WORDS) if rng.random() < 0.35 else w for w in picks]
        return " ".join(words).capitalize() + "."


def _filler(rng: random.Random, vocabulary: Vocabulary, sentences: int) -> list[str]:
    return [vocabulary.sentence(rng) for _ in range(sentences)]


@dataclass(frozen=True, slots=True)
class Item:
    article: articles.Article
    trust: float
    event_key: int
    kind: str  # base | duplicate | rewrite


def symbols(rng: random.Random, count: int) -> list[articles.SymbolDescriptor]:
    found: list[articles.SymbolDescriptor] = []
    seen: set[str] = set()
    while len(found) < count:
        short = "".join(rng.sample(SYLLABLES, 2)).capitalize()
        if short in seen:
            continue
        seen.add(short)
        ticker = short[:4].upper()
        name = f"{short} {rng.choice(SUFFIXES)}"
        ceo = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        found.append(articles.SymbolDescriptor(f"{ticker}{len(found)}", name, (short, ceo)))
    found.append(articles.SymbolDescriptor("TECH", "Big Tech", ("tech giants",), "index"))
    return found


def _syndicate(rng: random.Random, title: str, body: str) -> tuple[str, str]:
    body = body.replace(" on ", " ", 1) if rng.random() < 0.5 else body.replace("about", "around")
    return f"UPDATE 1-{title}", f"NEW YORK (Wire) - {body}\n\n(Reporting by Wire staff)"


def corpus(size: int, seed: int = 7) -> tuple[list[articles.SymbolDescriptor], list[Item]]:
    rng = random.Random(seed)
    listed = symbols(rng, 48)
    vocabulary = Vocabulary(rng)
    start = datetime(2024, 10, 1, tzinfo=UTC)
    items: list[Item] = []
    event = 0
    clock = 0.0
    while len(items) < size:
        clock += rng.expovariate(1 / 60.0)  # ~60 s between base articles
        company = rng.choice(listed[:-1])
        short, ceo = company.aliases
        slots = {
            "name": company.name,
            "short": short,
            "ceo": ceo,
            "day": rng.choice(DAYS),
            "n": rng.randrange(1000, 500000),
            "pct": rng.randrange(2, 60),
            "amt": round(rng.uniform(0.2, 90), 1),
            "city": rng.choice(CITIES),
            "part": rng.choice(PARTS),
        }
        title_t, lead_t, re_title_t, re_lead_t = rng.choice(TEMPLATES)
        filler = _filler(rng, vocabulary, 7)
        body = f"{lead_t.format(**slots)}\n\n{' '.join(filler[:4])}\n\n{' '.join(filler[4:])}"
        if rng.random() < 0.3:
            body += "\n\nThe move comes as tech giants race to expand."
        when = start + timedelta(seconds=clock)
        outlet = rng.choice(OUTLETS)
        url = f"https://{outlet}/story/{event}"
        items.append(
            Item(
                articles.Article(url, title_t.format(**slots), body, when),
                rng.choice((0.6, 0.8, 0.9)),
                event,
                "base",
            )
        )
        for copy in range(rng.choice((0, 0, 0, 1, 2))):
            title, text = _syndicate(rng, title_t.format(**slots), body)
            items.append(
                Item(
                    articles.Article(
                        f"https://{rng.choice(SYNDICATORS)}/w/{event}-{copy}",
                        title,
                        text,
                        when + timedelta(minutes=rng.uniform(1, 90)),
                    ),
                    0.5,
                    event,
                    "duplicate",
                )
            )
        if rng.random() < 0.15:
            kept = sorted(rng.sample(range(7), 4))
            facts = " ".join([filler[i] for i in kept] + _filler(rng, vocabulary, 2))
            rewrite = f"{re_lead_t.format(**slots)}\n\n{facts}"
            items.append(
                Item(
                    articles.Article(
                        f"https://{rng.choice(OUTLETS)}/other/{event}",
                        re_title_t.format(**slots),
                        rewrite,
                        when + timedelta(minutes=rng.uniform(5, 120)),
                    ),
                    0.8,
                    event,
                    "rewrite",
                )
            )
        event += 1
    items = items[:size]
    items.sort(key=lambda item: (item.article.published_at, item.article.canonical_url))
    return listed, items
