"""The name matcher: one rule for finding and comparing names, whatever their spelling.

Tajik place names reach the registry in Russian and Tajik Cyrillic and in several Latin
transliterations (BGN/PCGN, Soviet-era German and French forms, the MinMod/USGS forms),
with typing slips on top. The matcher brings every spelling to one Latin *key*
(`key("Кони-Мансур") == key("Koni Mansour") == "konimansur"`) and ranks names by how
well they answer a query (`score`: 100 for the same key, then a prefix, a word, a part,
then similar keys by edit distance, rapidfuzz). It knows no model: deposits keep each
name's key in their `search_text` so the database narrows the candidates, and the
cooperation app, the admin, the suggestions and the data-quality report rank with the
same `score`. docs/search.md explains the choices; the page /deposits/spelling/ shows
the tables below to users.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

# Tajik and Russian Cyrillic, letter by letter, to Latin (close to BGN/PCGN). The Latin
# is then folded like any Latin spelling (FOLDS), so "дж", "ҷ", "dzh" and "j" meet.
CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ғ": "gh",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "ӣ": "i",
    "й": "y",
    "к": "k",
    "қ": "q",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ӯ": "u",
    "ф": "f",
    "х": "kh",
    "ҳ": "h",
    "ц": "ts",
    "ч": "ch",
    "ҷ": "j",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
_CYRILLIC_TABLE = str.maketrans(CYRILLIC)

# Latin variants folded to one form, in this order (each a regular expression over a
# lowercase word). The order matters: "dzh" goes before "zh", "kh" before the lone "h".
FOLDS = [
    (r"shch", "sh", "shch, sh", "sh"),
    (r"dzh|dj|zh", "j", "dzh, dj, zh, j", "j"),
    (r"kh|x", "h", "kh, x, h", "h"),
    (r"gh", "g", "gh, g", "g"),
    (r"q", "k", "q, k", "k"),
    (r"w", "v", "w, v", "v"),
    (r"yo", "e", "yo, e", "e"),
    (r"oo|ou", "u", "oo, ou, u", "u"),
    (r"y", "i", "y, i (ya, ia; -iy, -yi, -i)", "i"),
    (r"([a-z])\1+", r"\1", "tt, t (doubled letters)", "t"),
]
_FOLDS = [(re.compile(pattern), replacement) for pattern, replacement, _, _ in FOLDS]

# Tajik qualifiers joined to a name by the izofat "-i": "Konimansuri Kalon" (the big
# Konimansur), "Zarnisori Shimoli". The "-i" is dropped before them, as in "Konimansur
# Kalon", and a lone "i" between words ("Dara-i-Pioz") is dropped too. Folded spellings.
QUALIFIERS = frozenset(
    ["kalon", "hurd", "shimoli", "janubi", "garbi", "sharki", "bolo", "poion", "nav", "kuhna"]
)

# Similarity below which two keys are different names (`similar`, 0-100).
SIMILAR = 80
# A key this short is matched exactly or as a start or part, never by similarity.
FUZZY_MIN_LENGTH = 4
# The shortest query key that is searched at all: one letter matches everything.
MIN_QUERY_LENGTH = 2
# What score() gives each kind of match; a fuzzy match scores below every exact kind.
EXACT, PREFIX, WORD, PART, FUZZY_MAX = 100.0, 90.0, 88.0, 80.0, 75.0
# What a search answers; "did you mean" suggests from DID_YOU_MEAN down.
MATCH = 60.0
DID_YOU_MEAN = 45.0

_NOT_A_LETTER = re.compile(r"[^0-9a-z]+")
_MARKS = re.compile(r"[\u0300-\u036f]")


def _fold_word(word: str) -> str:
    # Again until nothing changes: "akkhol" -> "akhol" -> "ahol", so a key folds to itself.
    while True:
        folded = word
        for pattern, replacement in _FOLDS:
            folded = pattern.sub(replacement, folded)
        if folded == word:
            return word
        word = folded


@lru_cache(maxsize=65536)
def words(name: str) -> tuple[str, ...]:
    """The folded words of a name: case, diacritics, punctuation and hyphens ignored,
    Cyrillic transliterated, Latin variants folded, the Tajik izofat handled."""
    text = unicodedata.normalize("NFC", name).casefold().translate(_CYRILLIC_TABLE)
    # Diacritics (Kŭhistoni, jumhurí) go; apostrophes and hard signs join ("Gurufat'ma").
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    text = re.sub(r"['’ʼ`´]", "", text)
    folded = [_fold_word(w) for w in _NOT_A_LETTER.split(text) if w]
    result = []
    for i, word in enumerate(folded):
        if word == "i" and 0 < i < len(folded) - 1:
            continue  # "Dara-i-Pioz"
        following = folded[i + 1] if i + 1 < len(folded) else ""
        if following in QUALIFIERS and len(word) > 3 and word.endswith("i"):
            word = word[:-1]  # "Konimansuri Kalon" -> "konimansur kalon"
        result.append(word)
    return tuple(result)


def key(name: str) -> str:
    """One name's key: its folded words run together ("Koni Mansour" -> "konimansur")."""
    return "".join(words(name))


# Names that name nothing ("Unnamed P occurrence", "Безымянное"): never a match by name.
_PLACEHOLDERS = ("unnamed", "безымянн")


def placeholder(name: str) -> bool:
    """Whether a name is a placeholder, which says nothing about which deposit it is."""
    return key(name).startswith(tuple(key(p) for p in _PLACEHOLDERS))


def keys(names: Iterable[str]) -> list[str]:
    """The keys of several names, each once; a list such as "Khodzhamunyn, Khodzhasartys"
    also gives the key of each of its parts."""
    found = []
    for name in names:
        parts = [name, *re.split(r"[,;]", name)] if re.search(r"[,;]", name) else [name]
        for part in parts:
            k = key(part)
            if k and k not in found:
                found.append(k)
    return found


def fold_case(text: str) -> str:
    """Case folded the same way in Latin and Cyrillic (SQLite's LIKE folds ASCII only)."""
    return text.casefold().replace("ё", "е")


def similar(first_key: str, second_key: str) -> float:
    """How alike two keys are, 0-100: one less the edits (a letter typed, dropped,
    changed, or two swapped) over the longer key's length (rapidfuzz's optimal string
    alignment distance). A slip in a short name weighs more than in a long one."""
    return OSA.normalized_similarity(first_key, second_key) * 100


def fuzzy(query_key: str) -> bool:
    """Whether a query may match by similarity: long enough, and no digits (an identifier
    or a number is matched exactly)."""
    return len(query_key) >= FUZZY_MIN_LENGTH and not any(c.isdigit() for c in query_key)


def _score_one(query_key: str, name: str) -> float:
    name_words = words(name)
    name_key = "".join(name_words)
    if not name_key:
        return 0.0
    if query_key == name_key:
        return EXACT
    # Longer names that merely contain the query rank below shorter ones that do.
    closeness = len(query_key) / len(name_key)
    if name_key.startswith(query_key):
        return PREFIX + 5 * closeness
    if query_key in name_words:
        return WORD + closeness
    if query_key in name_key:
        return PART + 5 * closeness
    if not fuzzy(query_key):
        return 0.0
    similarity = max(
        similar(query_key, name_key),
        *(similar(query_key, w) for w in name_words if len(w) >= FUZZY_MIN_LENGTH),
        # what has been typed so far against the start of a longer name
        similar(query_key, name_key[: len(query_key)])
        if len(query_key) > FUZZY_MIN_LENGTH and len(name_key) > len(query_key)
        else 0,
    )
    return FUZZY_MAX * similarity / 100 if similarity >= SIMILAR - 20 else 0.0


def score(query: str, names: Iterable[str]) -> float:
    """How well the best of `names` answers `query`, 0-100: 100 the same key, 90-95 a
    name starting with it, 88-89 one of a name's words, 80-85 a part of a name, below 75
    a similar name (`similar`, from SIMILAR - 20 up); 0 no match. A search answers
    from MATCH up."""
    query_key = key(query)
    if len(query_key) < MIN_QUERY_LENGTH:
        return 0.0
    return max((_score_one(query_key, name) for name in names), default=0.0)


def same_name(first: Iterable[str], second: Iterable[str], similarity: float = SIMILAR) -> bool:
    """Whether two records' names are the same name in different spellings or with a
    slip: some key of one equals, or is `similarity` (`similar`) close to, some key
    of the other (a list "A, B" counts as each of its names)."""
    first_keys, second_keys = keys(first), keys(second)
    return any(
        a == b or (fuzzy(a) and fuzzy(b) and similar(a, b) >= similarity)
        for a in first_keys
        for b in second_keys
    )


def ranked(query: str, records: Iterable, names_of, threshold: float = MATCH) -> list:
    """(score, record) of the records whose names answer `query`, best first; a record's
    names are `names_of(record)`. Ties keep the records' own order."""
    scored = [
        (score(query, names_of(record)), index, record) for index, record in enumerate(records)
    ]
    scored = [item for item in scored if item[0] >= threshold]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(s, record) for s, _, record in scored]


@dataclass(frozen=True)
class Suggestion:
    """A record answering a query: its kind ("deposit", "region", ...), public id or code,
    label in the reader's language, score (0-100, see `score`) and the path of its page."""

    kind: str
    id: str
    label: str
    score: float
    url: str


def suggest(
    kind: str,
    query: str,
    records: Iterable,
    names_of: Callable,
    id_of: Callable,
    label_of: Callable,
    url_of: Callable,
    threshold: float = MATCH,
) -> list[Suggestion]:
    """Suggestions of one kind from records ranked here (small tables: minerals,
    regions, organisations); a caller passes only records the reader may see."""
    return [
        Suggestion(kind, id_of(record), label_of(record), round(found, 1), url_of(record))
        for found, record in ranked(query, records, names_of, threshold)
    ]


def candidate_fragments(query: str, threshold: float = MATCH) -> tuple[list[str], int]:
    """What any name scoring `threshold` or more for `query` contains, for the database
    to narrow the candidates before `score` ranks them: pieces of the query's key and
    how many of them at least. Without similarity (a short key, or one with digits) the
    key itself. Otherwise its two-letter (keys up to six letters) or three-letter pieces,
    at most twelve: an edit of the key breaks at most that many letters' worth of
    pieces, and a similar name is at most so many edits away, so a name keeping fewer
    pieces cannot score enough."""
    query_key = key(query)
    if len(query_key) < MIN_QUERY_LENGTH:
        return [], 0
    if not fuzzy(query_key):
        return [query_key], 1
    size = 2 if len(query_key) <= 6 else 3
    grams = list(dict.fromkeys(query_key[i : i + size] for i in range(len(query_key) - size + 1)))
    if len(grams) > 12:
        step = len(grams) / 12
        grams = [grams[int(i * step)] for i in range(12)]
    # similarity needed (0-1), and the edits it allows against a longer or shorter name
    needed = min(threshold / FUZZY_MAX, 1.0)
    edits = int((1 - needed) / needed * len(query_key)) if needed > 0 else len(query_key)
    return grams, max(1, len(grams) - edits * size)


def spelling_table() -> list[tuple[str, str]]:
    """(Cyrillic letter, Latin) for the spelling page and docs/search.md."""
    return [(letter, latin or "—") for letter, latin in CYRILLIC.items()]


def folding_table() -> list[tuple[str, str]]:
    """(variants, the form they fold to) in the order the matcher applies them."""
    return [(variants, folded) for _, _, variants, folded in FOLDS]
