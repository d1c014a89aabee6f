"""Sentences of an article, with the position signals every facet uses; upper-case text.

The title is sentence 0; body sentences follow in order (the lead is sentences 1 and 2).
A short line without end punctuation is a heading (a label, a caption, a widget): it names
topics more than actors. A sentence seen before (the headline repeated as the first line, a
caption shown twice) is skipped, so furniture does not outweigh the story.

Text written all in capitals (wire copy of the 1980s, MUC) has no case to find names by:
`recase` writes a same-length copy in which sentence openers, gazetteer place names, month
and weekday names and acronyms defined in brackets are capitalised and every other word is
lower case. Person names stay lower case there, so such text yields places and dates, and
actors only where an acronym names them ("... LIBERATION FRONT [FMLN]").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

from extractors.content.facets.gazetteer import Gazetteer, fold
from extractors.content.facets.words import ABBREVIATIONS

TITLE_WEIGHT, LEAD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
HEADING_WEIGHT = 0.5
HEADING_WORDS = 6
LEAD_SENTENCES = 2
UPPER_SHARE = 0.8  # letters in capitals above which text counts as upper case

_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*\s+|\n+")
_LETTERS = re.compile(r"[^\W\d_]")
# Words in any script (filtered to lower-case ones by `lower_vocab`): a capitalised word that
# is also used lower-case is an ordinary word. `re` and str.islower are faster than `regex`.
_ANY_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]+(?:['’-][^\W\d_]+)*(?!\w)")


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: int  # offset in the body text (-1 for the title)
    index: int  # 0 for the title, then 1, 2, ... in reading order
    weight: float
    in_title: bool
    heading: bool = False
    lead: bool = False


def split(title: str, text: str) -> list[Sentence]:
    """Title first, then body sentences; splits on . ! ? unless after an abbreviation."""
    out = [Sentence(title, -1, 0, TITLE_WEIGHT, True)] if title.strip() else []
    seen = {fold(title)}
    start = 0
    body = 0

    def add(chunk: str, at: int) -> None:
        nonlocal body
        key = fold(chunk)
        if not key or key in seen:
            return
        seen.add(key)
        index = len(out) if out and out[0].in_title else len(out) + 1
        if is_heading(chunk):
            out.append(Sentence(chunk, at, index, HEADING_WEIGHT, False, heading=True))
            return
        lead = body < LEAD_SENTENCES
        out.append(Sentence(chunk, at, index, LEAD_WEIGHT if lead else BODY_WEIGHT, False,
                            lead=lead))
        body += 1

    for m in _SENTENCE_END.finditer(text):
        before = text[max(start, m.start() - 12) : m.start() + 1].split()
        last_word = before[-1].casefold().rstrip(".") if before else ""
        after = text[m.end() : m.end() + 1]
        if "\n" not in m.group() and (
            last_word in ABBREVIATIONS or len(last_word) == 1 or (after and after.islower())
        ):
            continue
        add(text[start : m.end()], start)
        start = m.end()
    add(text[start:], start)
    return out


def is_heading(chunk: str) -> bool:
    """A line of a few words without end punctuation: "Energy", "Related Topics"."""
    line = chunk.strip()
    return bool(line) and line[-1] not in ".!?:;\"'”’)»" and len(line.split()) <= HEADING_WORDS


def lower_vocab(text: str) -> set[str]:
    return {w for w in _ANY_WORD.findall(text) if len(w) > 1 and w.islower()}


def is_upper_case(title: str, text: str) -> bool:
    sample = (title + " " + text)[:3000]
    letters = _LETTERS.findall(sample)
    return len(letters) >= 40 and sum(c.isupper() for c in letters) >= UPPER_SHARE * len(letters)


_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'’.-]*")
_WRAPPED = re.compile(r"(?<![\n\r])[ \t]*\n(?![\n\r])")
_ACRONYM_DEF = regex.compile(r"[\[(](\p{Lu}{2,7})[\])]")
_OPENER = re.compile(r"(?:^|[.!?]\s+|\n\s*|--\s+|\[\w+\]\s+)$")
_MONTHS_DAYS = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday""".split()  # noqa: SIM905
)
_GLUE = frozenset("de del la las los el da do dos of the y".split())  # noqa: SIM905
_STOP = frozenset("""in on at of the and or to from with by for a an which that who where
    when as near""".split())  # noqa: SIM905
_PLACE_NOUN_OF = re.compile(
    r"\b(?:TOWN|VILLAGE|CITY|COMMUNITY|MUNICIPALITY|HAMLET|SETTLEMENT|DISTRICT|PROVINCE"
    r"|DEPARTMENT|REGION|NEIGHBORHOOD|SUBURB|CANTON|AREA)\s+OF\s+(?:THE\s+)?[\"“]?$")


def recase(text: str, gaz: Gazetteer) -> str:
    """A same-length copy of upper-case `text` with case restored where it can be known:
    sentence openers, gazetteer places (longest name first, glue words such as "de" inside
    them), month and weekday names, and acronyms defined in brackets (and their long forms)
    keep their capitals; every other word is lower case. Lines wrapped inside a paragraph
    are joined (a lone line break becomes a space)."""
    text = _WRAPPED.sub(" ", text)
    words = list(_WORD.finditer(text))
    out = list(text.lower())

    def capitalise(m: regex.Match[str]) -> None:
        out[m.start()] = text[m.start()]

    acronyms = {m[1] for m in _ACRONYM_DEF.finditer(text)}
    i = 0
    while i < len(words):
        m = words[i]
        word = m.group()
        if word.rstrip(".") in acronyms:
            out[m.start() : m.end()] = word
            i += 1
            continue
        found = 0
        for n in range(min(gaz.max_words, len(words) - i), 0, -1):
            span = words[i : i + n]
            if any(text[a.end() : b.start()] not in (" ", "-")
                   for a, b in zip(span, span[1:], strict=False)):
                continue
            if fold(span[-1].group()) in _GLUE:
                continue
            name = text[span[0].start() : span[-1].end()]
            if gaz.lookup(name) or (n > 1 and gaz.senses(name)):
                found = n
                break
        if found:
            for w in words[i : i + found]:
                if fold(w.group()) not in _GLUE or w is words[i]:
                    capitalise(w)
            i += found
            continue
        if (fold(word) in _MONTHS_DAYS or gaz.demonym(word)
                or _OPENER.search(text[max(0, m.start() - 8) : m.start()])):
            capitalise(m)
        elif _PLACE_NOUN_OF.search(text[max(0, m.start() - 30) : m.start()]):
            # "IN THE TOWN OF MOLINA", "THE COMMUNITY OF \"JUAN PARRA DEL RIEGO\"": a name
            j = i
            while j < len(words) and j - i < 4 and fold(words[j].group()) not in _STOP:
                capitalise(words[j])
                j += 1
                if text[words[j - 1].end() : words[j].start() if j < len(words) else 0] \
                        not in (" ", "-"):
                    break
            i = max(j, i + 1)
            continue
        i += 1
    _capitalise_long_forms(text, words, acronyms, out)
    for k, m in enumerate(words):  # "JUNIN DEPARTMENT", "LA MAR PROVINCE": names before
        if fold(m.group()) in ("department", "province") and k:
            j = k - 1
            while (j >= 0 and k - j <= 3 and fold(words[j].group()) not in _STOP
                   and text[words[j].end() : words[j + 1].start()] == " "):
                capitalise(words[j])
                j -= 1
    return "".join(out)


def _capitalise_long_forms(text: str, words: list, acronyms: set[str], out: list[str]) -> None:
    """"FARABUNDO MARTI NATIONAL LIBERATION FRONT [FMLN]": the words before a bracketed
    acronym whose initials spell it are its long form, a name."""
    for k, m in enumerate(words):
        word = m.group().rstrip(".")
        if word not in acronyms or m.start() == 0 or text[m.start() - 1] not in "[(":
            continue
        letters = list(word)
        j = k - 1
        while j >= 0 and letters:
            w = words[j].group()
            if fold(w) in _GLUE:
                j -= 1
                continue
            if w[0] != letters[-1]:
                break
            letters.pop()
            j -= 1
        if not letters:
            for w in words[j + 1 : k]:
                if fold(w.group()) not in _GLUE:
                    out[w.start()] = text[w.start()]
