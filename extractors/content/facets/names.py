"""Capitalised name sequences of a sentence: the raw material of actors and places.

A run is a maximal sequence of capitalised words (name particles such as "of" and "al-"
inside); runs are split into segments at title words ("President X": the title cues a
person and is not part of the name), at date words and after event names. Everything here
is one left-to-right pass over the sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import regex

from extractors.content.facets.dates import MONTHS, WEEKDAYS
from extractors.content.facets.gazetteer import fold
from extractors.content.facets.words import (
    ABBREVIATIONS,
    AMBIGUOUS_MONTHS,
    EVENT_HEADS,
    HYPHEN_SUFFIXES,
    NAME_PARTICLES,
    NOT_NAMES,
    ORG_HEADS,
    TITLES,
)
from extractors.content.text import STOPWORDS

# Only words that can be part of a name: capitalised, "el-Sissi", or a particle ("of", "van").
_TOKEN = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}'’-])"
    r"(?:\p{Lu}|(?:al|el|ad|as|bin|ibn|abu)-\p{Lu}|(?:of|the|de|du|da|del|della|van|von|der|den"
    r"|la|le|bin|ibn|al|el)(?![\p{L}\p{M}\p{N}'’-]))"
    r"[\p{L}\p{M}\p{N}]*(?:[-'’&/]\p{L}[\p{L}\p{M}\p{N}]*|\.\p{L}(?!\p{Ll}))*\.?"
)


@dataclass(slots=True)
class Tok:
    text: str
    start: int
    end: int
    initial: bool  # first word of its sentence, of a quotation or after a colon or dash


def shouted(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _is_cap(word: str) -> bool:
    if word[:1].isupper():
        parts = word.split("-")
        # "One-year-old", "Six-year-old": an ordinary compound ("Moon Jae-in" is a name)
        return len(parts) < 3 or not all(p.islower() for p in parts[1:])
    head, dash, rest = word.partition("-")  # "el-Sissi", "al-Assad"
    return bool(dash) and head in NAME_PARTICLES and rest[:1].isupper()


def clean_token(word: str) -> tuple[str, bool, str]:
    """Strip possessives, trailing dots and lower-case hyphen suffixes; returns the word, True
    if the run ends here, and what was cut ("'s", "-led", "")."""
    ends, cut = False, ""
    for suffix in ("'s", "’s"):
        if word.endswith(suffix) and word.casefold() != "people" + suffix:
            word, ends, cut = word[: -len(suffix)], True, suffix
    if word.endswith(".") and fold(word) not in ABBREVIATIONS and word.count(".") == 1:
        word = word[:-1]
    if "-" in word:
        parts = word.split("-")
        last = parts[-1]
        if parts[0][:1].isupper() and (
            last.casefold() in HYPHEN_SUFFIXES or (last.islower() and last.endswith("ed"))
        ):
            word, ends, cut = "-".join(parts[:-1]), True, "-" + last
    return word, ends, cut


_OPENS = ("\"", "“", "‘", "'", "`", "(", "[", ":", "—", "–", "|")


def runs(sentence: str) -> Iterator[list[Tok]]:
    """Maximal runs of capitalised words (with name particles inside) in one sentence."""
    run: list[Tok] = []
    prev_end = None
    first = len(sentence) - len(sentence.lstrip())
    for m in _TOKEN.finditer(sentence):
        raw = m.group()
        word, ends, _ = clean_token(raw)
        gap_ok = prev_end is not None and sentence[prev_end : m.start()] in (" ", "  ")
        before = sentence[max(0, m.start() - 3) : m.start()].rstrip(" ")
        initial = m.start() == first or before.endswith(_OPENS)
        if (
            not word
            or word[0].isdigit()
            or not (_is_cap(word) or (run and gap_ok and _particle_fits(word, run[-1].text)))
        ):
            if run:
                yield run
            run, prev_end = [], None
            continue
        if run and (not gap_ok or _new_name_starts(word, run[-1].text)):
            yield run
            run = []
        run.append(Tok(word, m.start(), m.end(), initial))
        prev_end = m.end()
        if ends:
            yield run
            run, prev_end = [], None
    if run:
        yield run


_INITIALS = regex.compile(r"^(?:(?:\p{Lu}\.){1,3}|\p{Lu})$")


def _new_name_starts(word: str, previous: str) -> bool:
    """Run-together names split where the writing changes: a shouted heading next to normal
    text ("USA TODAY Toblerone") or an article in the middle ("Afghanistan The Taliban")."""
    if word in ("The", "A", "An") and previous not in NAME_PARTICLES:
        return True
    if _INITIALS.match(word) or _INITIALS.match(previous):
        return False  # initials ("George W. Bush", "E.C. Robinson") go with either
    return shouted(word) != shouted(previous)


def _particle_fits(word: str, previous: str) -> bool:
    """'of' joins organisations and titles ("Ministry of Defence"), not "Aliyev of Azerbaijan"."""
    if word not in NAME_PARTICLES:
        return False
    if word == "of":
        low = previous.casefold()
        return low in ORG_HEADS or low in TITLES
    if word == "the":
        return previous == "of"
    return True


def is_date_word(tok: Tok, sentence: str) -> bool:
    low = tok.text.casefold().rstrip(".")
    if "-" in low and all(p in MONTHS or p in WEEKDAYS for p in low.split("-")):
        return True  # "July-September": a stretch of months
    if low in WEEKDAYS:
        return True
    if low in MONTHS:
        if low in AMBIGUOUS_MONTHS:  # "May" or "June" may be names: a number or "in" decides
            follow = sentence[tok.end : tok.end + 4].strip()
            before = sentence[max(0, tok.start - 8) : tok.start].casefold().split()[-1:]
            return bool(follow[:1].isdigit()) or before in (["in"], ["since"], ["until"])
        return True
    return False


def segments(run: list[Tok], sentence: str) -> Iterator[tuple[list[Tok], str]]:
    """Split a run at title words and date words; yield (segment, cue): cue is "" for no
    title, the (last) title word after one ("President X" -> "president"), or "of" after a
    title ending in "of" ("Mayor of London Sadiq Khan": the place qualifies the title)."""
    seg: list[Tok] = []
    cued = ""
    i = 0
    while i < len(run):
        tok = run[i]
        low = tok.text.casefold().rstrip(".")
        if is_date_word(tok, sentence):
            if seg:
                yield seg, cued
            seg, cued = [], ""
            i += 1
            continue
        if low in TITLES:
            j = i
            while j < len(run) and (
                run[j].text.casefold().rstrip(".") in TITLES
                or (run[j].text in ("of", "the") and j + 1 < len(run))
            ):
                j += 1
            if j < len(run) and run[j].text.casefold() in ORG_HEADS:
                seg.extend(run[i:j])  # "Foreign Ministry": part of an organisation's name
                i = j
                continue
            if seg:
                yield seg, cued
            last = run[j - 1].text
            seg, cued = [], ("of" if last == "of" else last.casefold().rstrip("."))
            i = j
            continue
        shout = len(tok.text) >= 5 and tok.text.isupper()  # "WATCHED North Korea"
        if not seg and (
            shout
            or (low in STOPWORDS and low != "new")
            or low in NOT_NAMES
            or tok.text in NAME_PARTICLES
        ):
            i += 1
            continue
        seg.append(tok)
        i += 1
        if low in EVENT_HEADS and i < len(run) and run[i].text.casefold() not in ORG_HEADS:
            yield seg, cued  # "Brazil Grand Prix | Christian Horner": an event name ends here
            seg, cued = [], ""
    while seg and seg[-1].text in NAME_PARTICLES:
        seg.pop()
    if seg:
        yield seg, cued
