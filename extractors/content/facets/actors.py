"""Who: the people and organisations an article names, joined, typed and described.

Mentions of one name meet under `actor_key` (spelling variants: "Pashinyan" / "Pashinian",
"Abdel-Fattah" / "Abdel Fattah", "Democrats" / "Democrat") and a surname or a head word alone
joins the full name ("Verstappen" -> "Max Verstappen", "Amazon" -> "Amazon Ring"). Each
actor is typed (person, organisation, country) and described by general signals for the
who ranker (ranking.py): how often and how early it is named, the headline's and the
lead's subject, a title before it, and how the text uses it: speaking ("X said"), taking
part (an age after the name, "the victim", "was arrested"), or qualifying another noun
("EU official"). Unnamed people opening the lead ("A gunman opened fire") are a candidate
too. Publications ("The Times-Picayune") are never actors.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import regex

from extractors.content.facets.gazetteer import Gazetteer, fold
from extractors.content.facets.ranking import Candidate
from extractors.content.facets.scan import WINDOW, ActorMention, is_name
from extractors.content.facets.sentences import Sentence
from extractors.content.facets.words import (
    KIN_BEFORE,
    MEDIA_HEADS,
    NAME_PARTICLES,
    NOT_NAMES,
    OFFICIAL_TITLES,
    ORG_HEADS,
    PERSON_NOUNS,
    ROLE_NOUNS,
    common_word,
)
from extractors.models import ActorType

MAX_LISTED = 10  # actors in the mention list
LIST_MIN_WEIGHT = 2.0  # a lone word named once in the body is too thin to list


@dataclass
class Merged:
    """One actor: its mentions' totals and how it is used."""

    key: str
    surface: str
    weight: float = 0.0
    count: int = 0
    first: int = 10**9  # order of the first mention
    first_sentence: int = 10**9
    surfaces: Counter[str] = field(default_factory=Counter)
    title: bool = False
    lead: bool = False
    only_initial: bool = True
    after_the: bool = False
    cued: int = 0
    official: int = 0
    speaker: int = 0
    participant: int = 0
    aged: int = 0  # "John Smith, 45,", "45-year-old John Smith", "his father X": a person
    involved: int = 0
    product: int = 0  # "Amazon Ring doorbells were": the name qualifies a thing
    modifier: int = 0
    place_word: bool = False
    country: bool = False
    surname_ref: bool = False  # also named by its last word alone: a person's surname
    head_ref: bool = False  # also named by its first word alone: a company's or group's name
    unnamed: bool = False

    def absorb(self, other: Merged, spellings: bool = True) -> None:
        self.weight += other.weight
        self.count += other.count
        self.first = min(self.first, other.first)
        self.first_sentence = min(self.first_sentence, other.first_sentence)
        if spellings:
            self.surfaces.update(other.surfaces)
        for flag in ("title", "lead", "after_the", "country", "surname_ref", "head_ref"):
            setattr(self, flag, getattr(self, flag) or getattr(other, flag))
        if spellings:  # "Michel" may be a town; "Charles Michel" is not
            self.place_word = self.place_word or other.place_word
        self.only_initial = self.only_initial and other.only_initial
        for n in ("cued", "official", "speaker", "participant", "aged", "involved",
                  "product", "modifier"):
            setattr(self, n, getattr(self, n) + getattr(other, n))

    @property
    def name(self) -> str:
        """The spelling used most (by weight); ties go to the longer, then the first."""
        if not self.surfaces:
            return self.surface
        return max(self.surfaces.items(), key=lambda kv: (kv[1], len(kv[0])))[0]


# --- canonical keys -------------------------------------------------------------------------

_TRANSLIT = (("kh", "h"), ("dh", "d"), ("ck", "k"), ("q", "k"), ("y", "i"), ("w", "v"))
_DOUBLED = re.compile(r"(\w)\1+")
_KEY_WORDS = {"st": "street", "ave": "avenue", "rd": "road", "mt": "mount", "ft": "fort"}


def _variant_word(word: str, last: bool) -> str:
    """One folded word in the spelling-blind form: "pashinyan" -> "pashinian"."""
    if not word.isascii():
        return word
    for a, b in _TRANSLIT:
        word = word.replace(a, b)
    word = _DOUBLED.sub(r"\1", word)
    if last and len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]  # plural and singular: "Democrats" / "Democrat"
    return word


def name_key(folded: list[str]) -> str:
    """Key under which spelling variants of one name meet; hyphens stay here
    ("Pashinian-Aliyev" is two names), `actor_key` also treats them as spaces."""
    words = [w.rstrip(".") for w in folded if w.rstrip(".")]
    if len(words) > 1 and words[-1] in _KEY_WORDS:
        words[-1] = _KEY_WORDS[words[-1]]  # "Wall St." -> "wall street"
    return " ".join(
        "-".join(_variant_word(part, last=i == len(words) - 1) for part in w.split("-"))
        for i, w in enumerate(words)
    )


def actor_key(name: str) -> str:
    """The comparison key of an actor's name, so variants meet across articles, languages'
    transliterations and watchlists: "Alaa Abdel-Fattah" / "Alaa Abdel Fattah", "Nikol
    Pashinyan" / "Nikol Pashinian", "Wall St." / "Wall Street", "Democrats" / "Democrat"."""
    return name_key([fold(w) for w in name.replace("-", " ").split()])


# --- how a mention is used ------------------------------------------------------------------

_SPEAKS_AFTER = re.compile(
    r"^(?:,[^,.;]{0,60},)?\s*(?:has\s+|had\s+)?(?:said|says|told|added|stated|explained|wrote"
    r"|tweeted|announced|confirmed)\b", re.IGNORECASE)
_SPEAKS_BEFORE = re.compile(
    r"\b(?:said|says|according to|told|spokesman|spokeswoman|spokesperson)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE)
_AGE_AFTER = re.compile(r"^(?:,\s*(?:aged?\s+)?\d{1,2}\s*[,.;]|\s*\(\d{1,2}\))")
_AGE_BEFORE = re.compile(r"\b\d{1,2}-year-old\s+$")
# Tight patterns of taking part: "the victim, John Smith", "identified as John Smith",
# "killed John Smith", "John Smith was arrested", "John Smith, 19, of Albany".
_PART_BEFORE = re.compile(
    r"\b(?:victims?|suspects?|shooter|gunman|identified as|named as|charged|arrested|killed"
    r"|shot|stabbed|wounded|accused|defendant|boy|girl|teen|teenager|toddler|son|daughter"
    r"|infant|baby)\s*,?\s*$", re.IGNORECASE)
_PART_AFTER = re.compile(
    r"^(?:,\s*(?:aged?\s+)?\d{1,2}\s*,|,\s*of\s+[A-Z]|\s+(?:was|is|has been|had been|were)"
    r"\s+(?:\w+\s+)?(?:shot|killed|arrested|charged|booked|taken|found|pronounced|identified"
    r"|transported|hit|struck|wounded|injured|indicted|sentenced|convicted|accused|held|jailed)"
    r"|\s+(?:died|faces|pleaded|allegedly|shot|killed|fired|opened fire))")
_PRODUCT_AFTER = re.compile(r"^\s+[a-z]{3,}s\s+(?:were|are|have|had|can|could|will|would)\b")
_PARTICIPANT = re.compile(
    r"\b(?:victims?|suspects?|identified|charged|arrested|killed|shot|died|dead|injured"
    r"|wounded|accused|gunman|shooter|slain|stabbed|booked|jailed|sentenced|convicted"
    r"|murder(?:ed)?|hospitali[sz]ed|custody|fired|won|beat|defeated|elected|resigned)\b",
    re.IGNORECASE)


def _uses(m: ActorMention) -> tuple[bool, bool, bool, bool, bool]:
    """(speaker, participant, official, aged, involved) for one mention, from a bounded
    window: involved is the tight form of participant ("the victim, X", "X was arrested")."""
    text = m.sent.text
    before = text[max(0, m.start - WINDOW) : m.start]
    after = text[m.end : m.end + WINDOW]
    speaker = bool(_SPEAKS_AFTER.match(after) or _SPEAKS_BEFORE.search(before))
    aged = bool(_AGE_AFTER.match(after) or _AGE_BEFORE.search(before)
                or KIN_BEFORE.search(before[-24:]))  # "his father, Jos": a person too
    participant = aged or bool(_PARTICIPANT.search(before[-40:] + " " + after[:40]))
    official = m.cue in OFFICIAL_TITLES
    involved = bool(_PART_BEFORE.search(before[-30:]) or _PART_AFTER.match(after[:60]))
    return speaker, participant, official, aged, involved


# --- collecting and joining ------------------------------------------------------------------


def collect(mentions: list[ActorMention]) -> dict[str, Merged]:
    actors: dict[str, Merged] = {}
    for m in mentions:
        words = m.words
        while len(words) > 1 and fold(words[-1]) in NOT_NAMES:  # "Paper Image (caption)"
            words = words[:-1]
        if not is_name(words):
            continue
        folded = [fold(w) for w in words]
        parts = [p for w in folded for p in w.split("-")]
        if any(w in MEDIA_HEADS for w in parts[1:]) or folded[-1].endswith(".com"):
            continue  # a publication ("The Times-Picayune", "NOLA.com"): never an actor
        key = name_key(folded)
        cand = actors.get(key)
        if cand is None:
            cand = actors[key] = Merged(key, " ".join(words))
        weight = m.sent.weight * (0.5 if m.modifier else 1.0)
        speaker, participant, official, aged, involved = _uses(m)
        cand.weight += weight
        cand.count += 1
        cand.surfaces[" ".join(words)] += weight
        cand.first = min(cand.first, m.order)
        cand.first_sentence = min(cand.first_sentence, m.sent.index)
        cand.title = cand.title or m.sent.in_title
        cand.lead = cand.lead or m.sent.lead
        cand.only_initial = cand.only_initial and m.initial
        cand.after_the = cand.after_the or m.after_the
        cand.cued += bool(m.cue)
        cand.official += official
        cand.speaker += speaker
        cand.participant += participant
        cand.aged += aged
        cand.involved += involved
        cand.product += bool(len(words) > 1 and _PRODUCT_AFTER.match(
            m.sent.text[m.end : m.end + 40]))
        cand.modifier += m.modifier
        cand.place_word = cand.place_word or m.place_word
        cand.country = cand.country or m.country
    return actors


def merge(actors: dict[str, Merged], lower_vocab: set[str],
          nouns_capitalised: bool = False) -> list[Merged]:
    """Join variants ("Pashinian" -> "Nikol Pashinian") and total their weights. With
    `nouns_capitalised` (German) a lone capitalised word is too often a common noun."""
    by_token: dict[str, list[str]] = defaultdict(list)
    for k in sorted(k for k in actors if " " in k):
        for tok in set(k.split()):
            by_token[tok].append(k)
    keep = {}
    for key, cand in actors.items():
        lone = " " not in key and key not in by_token  # not part of any longer name here
        common = any(common_word(w, lower_vocab) for w in (cand.surface, *cand.surfaces))
        if lone and (nouns_capitalised or cand.only_initial or common):
            continue  # a sentence opener or a common word, not a name
        keep[key] = cand
    target: dict[str, str] = {}
    for key in sorted(keep, key=lambda k: (len(k.split()), k)):
        toks = key.split()
        longer = [m for m in by_token.get(toks[0], ())
                  if len(m.split()) > len(toks) and _contains(m.split(), toks)]
        if len(toks) == 1 and longer:
            by_last = [m for m in longer if m.split()[-1] == toks[0]]
            longer = by_last or longer
        elif len(toks) > 1 and len(longer) > 1:
            continue  # "Foreign Ministry" inside two different ministries: leave it alone
        if longer:
            target[key] = max(longer, key=lambda m: (keep[m].weight, m))
    totals: dict[str, Merged] = {}
    for key, cand in keep.items():
        root = key
        while root in target:
            root = target[root]
        if "-" in key and " " not in key and root == key:
            parts = [p for p in key.split("-") if p in target or p in keep]
            if len(parts) == len(key.split("-")) > 1:  # "Pashinian-Aliyev meeting"
                for part in parts:
                    _credit(totals, keep, target.get(part, part), cand, same=False)
                continue
        _credit(totals, keep, root, cand, same=root == key)
    for key, into in target.items():  # how the short forms refer to the full name
        if " " not in key and into in totals:
            if into.split()[-1] == key:
                totals[into].surname_ref = True
            elif into.split()[0] == key:
                totals[into].head_ref = True
    joined: dict[str, Merged] = {}  # one per actor_key ("Abdel-Fattah", "Abdel Fattah")
    for cand in sorted(totals.values(), key=lambda c: (-c.weight, c.first, c.surface)):
        key = actor_key(cand.surface)
        if key in joined:
            joined[key].absorb(cand)
        else:
            joined[key] = cand
    return sorted(joined.values(), key=lambda c: (-c.weight, c.first, c.surface))


def _credit(totals: dict[str, Merged], keep: dict[str, Merged], root: str, cand: Merged,
            same: bool) -> None:
    if root not in keep:
        return
    total = totals.get(root)
    if total is None:
        total = totals[root] = Merged(root, keep[root].surface, first=keep[root].first)
    total.absorb(cand, spellings=same)


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


# --- types ----------------------------------------------------------------------------------


def actor_type(cand: Merged, gaz: Gazetteer) -> ActorType:
    """Person, organisation or country, by weighing how the text uses the name: an age,
    a title, "Jr." or the surname alone say person; an acronym, "the X", the first word
    alone ("Amazon" for "Amazon Ring"), a product use ("Amazon Ring doorbells were") or a
    place at its head ("Japan Display") say organisation; organisation words decide."""
    words = cand.surface.split()
    folded = [fold(w) for w in words]
    if cand.unnamed:
        return "unnamed"
    if cand.country or gaz.kind(gaz.lookup(cand.surface) or "") == "country":
        return "country"
    if any(w in ORG_HEADS or w in MEDIA_HEADS for w in folded):
        return "organisation"
    several = len(words) > 1
    person = (2 * bool(cand.aged) + 2 * (bool(cand.cued) and several)
              + 2 * bool(_SUFFIX.match(folded[-1])) + bool(cand.surname_ref)
              + bool(cand.involved and several))
    organisation = (2 * _acronym(cand.surface) + bool(cand.head_ref) + bool(cand.after_the)
                    + 2 * bool(cand.product) + (not several and not cand.cued)
                    + bool(several and (gaz.lookup(words[0]) or gaz.demonym(words[0]))))
    if person != organisation:
        return "person" if person > organisation else "organisation"
    return "person" if several else "organisation"


_SUFFIX = re.compile(r"^(?:jr|sr|ii|iii|iv)\.?$")


def _acronym(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return 2 <= len(letters) <= 6 and all(c.isupper() for c in letters) and " " not in name


# --- unnamed subjects -------------------------------------------------------------------------

_COUNTS = (r"A|An|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Dozens of|Hundreds of"
           r"|Thousands of|Scores of|Several|Some|At least \w+|More than \w+")
_UNNAMED = regex.compile(
    r"(?:^\s*|(?<=[\p{Ll}\d,;:'\"”)]\s))(?P<np>(?:" + _COUNTS + r")(?:\s+[\p{L}'-]+){0,3}?"
    r"\s+(?:" + "|".join(sorted(PERSON_NOUNS, key=len, reverse=True)) + r"))\b"
)
_SUBJECT_VERB = re.compile(r"^[^.;:!?]{0,60}?\b(?:has|have|had|was|were|is|are|will|\w{3,}ed)\b")
_NEXT_WORD = regex.compile(r"\s+(\p{Ll}+)\b")
LEAD_CHARS = 600  # the lead is read this far for an unnamed subject


def unnamed_subject(sentences: list[Sentence], gaz: Gazetteer) -> Merged | None:
    """The unnamed people the lead is about ("A gunman opened fire", "Dozens of rescuers
    are trying"): an indefinite or counted phrase with a person noun at its head, opening a
    clause of the lead, no name in it, and a verb after it."""
    for sent in sentences:
        if not sent.lead:
            continue
        text = sent.text[:LEAD_CHARS]
        for m in _UNNAMED.finditer(text):
            rest = text[m.end() : m.end() + 80]
            verb = _SUBJECT_VERB.search(rest)
            after = _NEXT_WORD.match(rest)
            if verb is None or (after and after[1] in PERSON_NOUNS | ROLE_NOUNS):
                continue  # not a subject, or not its head: "A family member of ..."
            between = m["np"].split()[1:] + rest[: verb.end()].split()
            if any(w[:1].isupper() and not (gaz.lookup(w.strip(",")) or gaz.demonym(w))
                   for w in between):
                continue  # a name in it: "A Taliban suicide bomber"
            words = m["np"].split()
            if words[0].casefold() in ("a", "an", "the"):
                words = words[1:]
            if words[0][1:].islower() and not gaz.demonym(words[0]):
                words[0] = words[0].lower()  # "Dozens of rescuers" -> "dozens of rescuers"
            phrase = " ".join(words)
            return Merged(phrase.casefold(), phrase, weight=sent.weight, count=1,
                          first=0, first_sentence=sent.index, lead=True, unnamed=True,
                          surfaces=Counter({phrase: 1.0}))
    return None


# --- features -------------------------------------------------------------------------------

_QUOTED = regex.compile(r"(?:^|(?<=\s))['‘\"“][^'’\"”]{1,80}['’\"”](?=\s|$|:)")
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'’-]*\p{L}")


def _first_named(merged: list[Merged], text: str) -> int | None:
    """Index (in `merged`) of the actor named first in `text` (quotes aside); a name that
    only qualifies a role noun before another name ("Red Bull boss Christian Horner") is
    not the subject: the role's holder is."""
    words = [fold(w) for w in _WORD.findall(_QUOTED.sub(" ", text))]
    best: tuple[int, int] | None = None
    for i, cand in enumerate(merged):
        names = {fold(w) for w in cand.name.split() if len(w) > 2} - NAME_PARTICLES
        for j, w in enumerate(words):
            if w not in names:
                continue
            end = j
            while end + 1 < len(words) and words[end + 1] in names:
                end += 1
            if end + 1 < len(words) and words[end + 1] in ROLE_NOUNS:
                break  # "EU official", "Red Bull boss": an attribute of someone
            if best is None or j < best[0]:
                best = (j, i)
            break
    return best[1] if best else None


_HEADLINE_TOKEN = re.compile(r"[^\W\d_][\w'’.-]*|[:;,!?\"“”‘]")
_POSSESSIVE = re.compile(r"['’]s$")
_AUXILIARIES = frozenset({
    "is", "was", "are", "were", "has", "had", "have", "will", "would", "to", "can", "could",
    "may", "might", "must", "should"})
# "..., Michel says": the source of the headline, not its subject (the speaker signal's part).
_SPEECH_VERBS = frozenset({"says", "said", "tells", "told"})


def _verb_like(word: str) -> bool:
    """A lower-case headline word that reads as a verb: an auxiliary, "to", a third person
    "-s" ("hails", "blames") or an "-ed" form ("charged"); not "-ss", "-us", "-is" nouns."""
    low = word.casefold()
    return word[:1].islower() and low not in _SPEECH_VERBS and (
        low in _AUXILIARIES or low.endswith("ed")
        or (low.endswith("s") and not low.endswith(("ss", "us", "is"))))


def headline_verb(title: str, name: str) -> bool:
    """The headline names this actor as the subject of a verb: its first capitalised mention
    that ends in the name's last word is followed by a verb ("Christian Horner hails ...",
    "Clinton blames ...", "Pedro Rosales charged ..."), not by a noun it qualifies ("Trump
    protest march"), a possessive ("Verstappen's performance"), a colon ("Trump election:")
    or a verb of saying ("..., Michel says")."""
    words = [w.strip(".").casefold() for w in name.split() if len(w) > 2]
    if not words:
        return False
    names, last = set(words), words[-1]
    toks = _HEADLINE_TOKEN.findall(title)
    for j, tok in enumerate(toks):
        base = _POSSESSIVE.sub("", tok)
        if not (base[:1].isupper() and base.casefold().strip(".") in names):
            continue
        end = j
        while end + 1 < len(toks) and _POSSESSIVE.sub("", toks[end + 1]).casefold() in names:
            end += 1
        if _POSSESSIVE.sub("", toks[end]).casefold().strip(".") != last:
            continue  # "Houston" of "Houston Police": not this actor's mention
        if _POSSESSIVE.search(toks[end]) or end + 1 == len(toks):
            return False
        return _verb_like(toks[end + 1])
    return False


# Signals whose weight depends on the actor's type.
TYPE_SIGNALS = ("headline_subject", "lead_subject", "title", "lead", "first_rank",
                "count_share", "participant", "involved", "speaker", "headline_verb")


def candidates(merged: list[Merged], unnamed: Merged | None, sentences: list[Sentence],
               gaz: Gazetteer, titlecase_title: bool) -> list[Candidate]:
    """Each actor (value: (name, type)), the unnamed subject, and "nobody" (value None)."""
    title = next((s.text for s in sentences if s.in_title), "")
    lead = next((s.text[:LEAD_CHARS] for s in sentences if s.lead), "")
    title_words = {fold(w) for w in _WORD.findall(title)} if titlecase_title else set()
    headline_subject = _first_named(merged, title)
    lead_subject = _first_named(merged, lead)
    out: list[Candidate] = [Candidate(None, {"null": 1.0})]
    ranks = {id(c): r for r, c in enumerate(sorted(merged, key=lambda c: c.first))}
    most = max((c.count for c in merged), default=0)
    for i, cand in enumerate(merged):
        if cand.count and cand.modifier >= cand.count:
            continue  # named only as an attribute ("EU-mediated talks", "the EU's commitment")
        kind = actor_type(cand, gaz)
        n = max(cand.count, 1)
        words = cand.name.split()
        in_title = cand.title or any(fold(w) in title_words for w in words if len(w) > 2)
        f = {
            "weight": math.log1p(cand.weight),
            "count": math.log1p(cand.count),
            "title": 1.0 if in_title else 0.0,
            "lead": 1.0 if cand.lead else 0.0,
            "first_sentence": 1.0 / (1.0 + cand.first_sentence),
            "first_rank": 1.0 / (1.0 + ranks[id(cand)]),
            "type_" + kind: 1.0,
            "cued": cand.cued / n,
            "official": cand.official / n,
            "speaker": cand.speaker / n,
            "participant": cand.participant / n,
            "involved": min(cand.involved, 3) / 3,
            "modifier": cand.modifier / n,
            "words_" + str(min(len(words), 3)): 1.0,
        }
        if i == headline_subject:
            f["headline_subject"] = 1.0
        if i == lead_subject:
            f["lead_subject"] = 1.0
        if kind == "person" and headline_verb(title, cand.name):
            f["headline_verb"] = 1.0  # organisations here are mostly places, police, papers
        if cand.place_word:
            f["place_word"] = 1.0
        if cand.surname_ref:
            f["surname_ref"] = 1.0
        if most:
            f["count_share"] = cand.count / most
        for signal in TYPE_SIGNALS:  # a person in the headline is not an agency there
            if f.get(signal):
                f[f"{kind}:{signal}"] = f[signal]
        out.append(Candidate((cand.name, kind), f))
    if unnamed is not None:
        out.append(Candidate((unnamed.name, "unnamed"), {
            "unnamed": 1.0, "lead": 1.0,
            "first_sentence": 1.0 / (1.0 + unnamed.first_sentence)}))
    return out


def mention_list(merged: list[Merged]) -> list[str]:
    """People and organisations named (countries stay places), by weight: lone words named
    once in the body are too thin to list."""
    return [c.name for c in merged
            if not c.country and (c.weight >= LIST_MIN_WEIGHT or " " in c.key)][:MAX_LISTED]
