"""One pass over an article's sentences: every name, read as a place, a site or an actor.

A capitalised segment (see names.py) is
- a place when the gazetteer knows it: by its default sense, or, for a name only small
  towns carry ("Erie", "Chelsea"), when the text places it ("Erie, Pa.", "Paris, Texas", a
  dateline, "X County"); otherwise it is kept as a weak place *and* read as an actor, and the
  rankers weigh the two readings;
- a demonym ("Afghan", "Armenian-Azerbaijani"): evidence for a country, never an actor;
- a site: a name ending in a venue or street word ("Wrigley Field", "Hinson Drive");
- an actor otherwise; a place at its head or after "of" qualifies it ("Chicago Police
  Department", "University of Michigan") and counts as a qualifier mention of that place.
What follows a place after a comma and names its state or country ("Erie, Pa.", "Mazar-i-
Sharif, Afghanistan") is read as the place's container, never as an actor.

Every look at the context is a bounded window around the name, so the pass is linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import regex

from extractors.content.facets.dates import EVENT_WORDS
from extractors.content.facets.gazetteer import Entry, Gazetteer, fold
from extractors.content.facets.names import Tok, clean_token, runs, segments, shouted
from extractors.content.facets.sentences import Sentence
from extractors.content.facets.words import (
    ADJECTIVES,
    ADMIN_WORDS,
    AUTHORITY_HEADS,
    CONTRACTIONS,
    DIRECTIONS,
    EVENT_HEADS,
    FEATURE_HEADS,
    GLUED_OPENERS,
    HOLIDAYS,
    KIN_BEFORE,
    MEDIA_HEADS,
    NOT_NAMES,
    ORG_HEADS,
    PLACE_OPENERS,
    ROLE_NOUNS,
    SETTLEMENT_HEADS,
    STREET_WORDS,
    VENUE_HEADS,
    common_word,
)
from extractors.content.text import STOPWORDS

WINDOW = 60  # characters of context looked at around a name


@dataclass(slots=True)
class ActorMention:
    words: list[str]
    sent: Sentence
    start: int  # offsets in the sentence
    end: int
    order: int
    cue: str = ""  # the title word before it ("president"), "of", or ""
    country: bool = False  # a country acting ("North Korea fired")
    modifier: bool = False  # "EU-mediated talks", "the EU's commitment", "EU official"
    after_the: bool = False
    initial: bool = False  # a lone word opening its sentence or a heading
    place_word: bool = False  # also a (small) place's name: "Chelsea", "Harvest"


@dataclass(slots=True)
class PlaceMention:
    surface: str
    senses: tuple[Entry, ...]
    sent: Sentence
    start: int
    end: int
    order: int
    demonym: bool = False
    qualifier: bool = False  # names an actor's home ("Chicago police", "University of X")
    locative: bool = False  # after "in", "at", "near", "outside"
    motion: bool = False  # after "from", "to": an origin or destination
    future: bool = False  # "can win the title in Abu Dhabi", "will meet in Minsk"
    container: Entry | None = None  # "Erie, Pa.": the state or country the text places it in
    contained: bool = False  # this mention is itself the container of another
    weak: bool = False  # only small-town senses and nothing placing it
    dateline: bool = False
    home: bool = False  # in the title's site-name tail ("... - WISTV - Columbia, S.C.")
    site: bool = False
    event: bool = False  # an event word near it ("killed", "attack", "met")
    acting: bool = False  # the subject of a verb ("Armenia and Azerbaijan agreed"): a party
    named: bool = False  # a name the gazetteer does not know, read as a place ("the town
    # of Molina", "Lawndale neighborhood", "at Interlagos"); a site-like candidate


@dataclass
class Scan:
    actors: list[ActorMention] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)


_LOCATIVE = re.compile(
    r"\b(?:(?:in|at|near|outside|inside|across|around)\s+(?:the\s+)?(?:\w+\s+)?"
    r"|(?:city|town|village|province|region|district|capital|state|county) of\s+)$",
    re.IGNORECASE)
_PLACE_NOUNS = (r"town|village|city|community|municipality|hamlet|settlement|district|province"
                r"|department|region|neighbo(?:u)?rhood|suburb|township|parish|canton|borough"
                r"|area|zone|locality|colony|island")
_PLACE_NOUN_OF = re.compile(r"\b(?:" + _PLACE_NOUNS + r")\s+of\s+(?:the\s+)?[\"“]?$",
                            re.IGNORECASE)
_PLACE_NOUN_AFTER = re.compile(r"\s+(?:" + _PLACE_NOUNS + r")\b", re.IGNORECASE)
_NEIGHBOURHOOD_AFTER = re.compile(
    r"\s+(?:neighbo(?:u)?rhood|subdivision)\b", re.IGNORECASE)
_STRONG_LOCATIVE = re.compile(r"\b(?:in|at|near|outside)\s+$")
_MOTION = re.compile(r"\b(?:from|to|into|toward|towards)\s+(?:the\s+)?$", re.IGNORECASE)
_FUTURE = re.compile(
    r"\b(?:will|won't|shall|going to|likely to|set to|due to|plans? to|hopes? to|can|could)\b",
    re.IGNORECASE,
)
_CONTAINER = regex.compile(
    r",\s*(?P<c>\p{Lu}[\p{L}.]*(?:\s\p{Lu}[\p{L}.]*){0,2})(?=[\s,;:)\-—–.]|$)")
_CREDIT_BEFORE = re.compile(
    r"(?:copyright|©|\b(?:credit|credits|photo|photograph|picture|image)\s*:"
    r"|\b(?:photo|photograph|picture|pictured|image)\s+by)\s*(?:the\s+)?$",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(r"(?:^|[,;:(\"“‘']\s*|\band\s+|\bthat\s+)$")
_VERB_AFTER = regex.compile(
    r"^(?:\s+and\s+\p{Lu}[\p{L}.-]*(?:\s+\p{Lu}[\p{L}.-]*)*)?,?\s+(?:has|have|had|is|was|will"
    r"|would|could|says|said|did|does|cannot|can|must|may|might|\p{Ll}+ed|\p{Ll}{3,}s)\b"
)
_ROLE_AFTER = regex.compile(r"\s+(?:" + "|".join(sorted(ROLE_NOUNS)) + r")\b")
_SITE_AFTER = regex.compile(  # "the Interlagos circuit", "the Interlagos race track"
    r"\s+(?:(?:race|racing|motor|football|cricket|baseball|sports|convention|train|bus"
    r"|shopping)\s+)?(?:" + "|".join(sorted(VENUE_HEADS - {"hospital"})) + r")\b")


def scan(sentences: list[Sentence], gaz: Gazetteer, lower_vocab: set[str],
         titlecase_title: bool) -> Scan:
    out = Scan()
    order = 0
    for sent in sentences:
        text = sent.text
        consumed = -1  # a container read after a place ("Erie, Pa.") is not read again
        tail = site_tail(text) if sent.in_title else len(text)
        capitalised = (sent.in_title and titlecase_title) or (
            not sent.in_title and is_titlecase(text, every=True))
        for run in runs(text):
            for seg, cue in segments(run, text):
                if seg[0].start < consumed:
                    continue
                if seg[0].start >= tail:  # the outlet's name and home, not the story's
                    out.places += _home_places(seg, sent, gaz, order)
                    continue
                order += 1
                while len(seg) > 1 and (fold(seg[-1].text) in NOT_NAMES
                                        or fold(seg[-1].text) in GLUED_OPENERS):
                    seg = seg[:-1]  # "Sao Paulo Click to share", "at Interlagos Then there"
                if _CREDIT_BEFORE.search(text[max(0, seg[0].start - 24) : seg[0].start]):
                    continue  # "Image copyright The Paper", "(Photo: Ken Blaze)": a credit
                consumed = _read_segment(out, seg, cue, sent, gaz, lower_vocab, order,
                                         capitalised)
    # A name read as a site once ("the Interlagos race track") is that site every time.
    sites = {fold(m.surface) for m in out.places if m.site and not m.named}
    if sites:
        out.actors = [a for a in out.actors if fold(" ".join(a.words)) not in sites]
    return out


_TITLE_SEPARATOR = re.compile(r"\s(?:-|–|—|\||::)\s")
SITE_TAIL_WORDS = 8  # a title's tail segments of at most this many words name the outlet
# words that end an outlet's name after its home: "Chattanooga News", "Erie News Now"
OUTLET_WORDS = MEDIA_HEADS | {"now", "online", "today", "live"}


def site_tail(title: str) -> int:
    """Where the site-name tail of a title starts ("Teen shot in Chelsea - WCVB - Boston"):
    after the first separator when every later segment is short; else the title's end."""
    parts = list(_TITLE_SEPARATOR.finditer(title))
    if not parts:
        return len(title)
    bounds = [m.end() for m in parts] + [len(title)]
    segments = [title[a : b] for a, b in zip(bounds, bounds[1:] + [len(title)], strict=False)]
    if all(len(seg.split()) <= SITE_TAIL_WORDS for seg in segments if seg.strip()):
        return parts[0].start()
    return len(title)


def _home_places(seg: list[Tok], sent: Sentence, gaz: Gazetteer, order: int
                 ) -> list[PlaceMention]:
    while len(seg) > 1 and fold(seg[-1].text) in OUTLET_WORDS:
        seg = seg[:-1]  # "| Chattanooga News, Weather & Sports", "- Erie News Now"
    name = " ".join(t.text for t in seg)
    senses = gaz.senses(name)
    if not senses:
        return []
    text = sent.text
    container, _ = _container(text, seg[-1].end, senses, gaz)
    mention = PlaceMention(name, senses, sent, seg[0].start, seg[-1].end, order, home=True,
                           container=container, weak=gaz.lookup(name) is None and not container)
    return [mention]


def _read_segment(out: Scan, seg: list[Tok], cue: str, sent: Sentence, gaz: Gazetteer,
                  lower_vocab: set[str], order: int, capitalised: bool) -> int:
    """Record what one segment names; returns the offset up to which the sentence was read
    (past a container such as ", Pa.")."""
    text = sent.text
    words = [t.text for t in seg]
    name = " ".join(words)
    start, end = seg[0].start, seg[-1].end
    lone_opener = len(seg) == 1 and (seg[0].initial or sent.heading)
    folded_name = fold(name)
    holiday = any(w in HOLIDAYS for w in folded_name.split())
    senses = () if holiday else gaz.senses(name)  # "Christmas" is a town in Florida too
    default = None if holiday else gaz.lookup(name)
    if senses and lone_opener and common_word(words[0], lower_vocab):
        return -1  # "Man charged ...", "Reading the ...": an ordinary word
    if (senses or default) and not cue and _NEIGHBOURHOOD_AFTER.match(text, end):
        # "the Austin neighborhood": a part of the story's city, not the place of that name
        out.places.append(_place(name, (), sent, start, end, order, site=True, named=True))
        return -1
    if default is None and senses and lone_opener:
        senses = ()  # a small town's name opening a sentence ("Police said"): a word
    if len(seg) == 1 and (senses or default) and KIN_BEFORE.search(text[max(0, start - 24):start]):
        senses, default = (), None  # "his father, Jos": a first name
    if default or senses:
        container, consumed = _container(text, end, senses, gaz)
        county = fold(words[-1]) in ("county", "parish")
        # a small town's one-word name may be anyone's name; "Dearborn Heights" is a place
        weak = default is None and container is None and not county and len(seg) == 1
        mention = _place(name, senses, sent, start, end, order, container=container, weak=weak)
        if default and gaz.kind(default) == "country" and _acts(text, start, end):
            out.actors.append(ActorMention(words, sent, start, end, order, country=True))
            mention.acting = True
        out.places.append(mention)
        if container is not None:
            out.places.append(_place(container.name, (container,), sent, end, consumed, order,
                                     contained=True))
        if weak and not capitalised:
            out.actors.append(_actor(words, seg, sent, cue, order, place_word=True))
        return consumed if container is not None else -1
    demonym = gaz.demonym(name)
    if demonym is not None:
        out.places.append(_place(name, _senses_of(demonym, gaz), sent, start, end, order,
                                 demonym=True))
        return -1
    if len(seg) == 1 and "-" in words[0]:
        parts = [gaz.demonym(p) or gaz.lookup(p) for p in words[0].split("-")]
        if all(parts):  # "Armenian-Azerbaijani", "Russia-Ukraine"
            for p in parts:
                out.places.append(_place(p, _senses_of(p, gaz), sent, start, end, order,
                                         demonym=True))
            return -1
    folded = [fold(w) for w in words]
    last = folded[-1]
    has_org = any(w in ORG_HEADS for w in folded)
    if not has_org and not cue and len(seg) > 1 and (
            folded[0] in DIRECTIONS or last in SETTLEMENT_HEADS or folded[0] in PLACE_OPENERS
            or (any(w in STREET_WORDS for w in folded[1:]) and not any(
                w in MEDIA_HEADS for w in folded))):
        # "East Nashville", "South Side", "Penn Hills": a part of a place, never an actor
        rest = " ".join(words[1:]) if folded[0] in DIRECTIONS else ""
        within = gaz.lookup(rest) if rest else None
        if within:
            out.places.append(_place(rest, _senses_of(within, gaz), sent, seg[1].start, end,
                                     order))
        out.places.append(_place(name, (), sent, start, end, order, site=True, named=True))
        return -1
    if not has_org and (last in VENUE_HEADS or last in FEATURE_HEADS or (
            _SITE_AFTER.match(text, end) and not cue)):
        # "Wrigley Field", "Hinson Drive", "Tasman Sea" are sites; an admin word the gazetteer
        # does not know ("Harbour Town", a club) names no place it can tell
        if (len(seg) > 1 or last not in FEATURE_HEADS or _SITE_AFTER.match(text, end)) and (
                last not in ADMIN_WORDS):
            out.places.append(_place(name, (), sent, start, end, order, site=True))
        return -1
    before = text[max(0, start - 40) : start]
    if not has_org and not cue and (_PLACE_NOUN_OF.search(before)
                                    or _PLACE_NOUN_AFTER.match(text, end)):
        # "the town of Molina", "the Lawndale neighborhood", "Junin Department"
        out.places.append(_place(name, (), sent, start, end, order, site=True, named=True))
        return -1
    if not has_org and not cue and _STRONG_LOCATIVE.search(before[-12:]) and not any(
            w in MEDIA_HEADS for w in folded):
        # "at Interlagos", "in Lawndale": a place the gazetteer does not know, or a name
        out.places.append(_place(name, (), sent, start, end, order, site=True, named=True,
                                 weak=True))
    # A place at the head ("Chicago Police Department", "Swiss Crystal") or after "of"
    # ("University of Michigan", "Mayor of London Sadiq Khan") qualifies the name.
    for n in range(min(len(seg) - 1, gaz.max_words), 0, -1):
        head = " ".join(words[:n])
        place = gaz.lookup(head) or gaz.demonym(head)
        if place is None and not cue and folded[n] in AUTHORITY_HEADS and gaz.senses(head):
            # "St. Augustine Police Department": a town too small to be a name's default
            # sense, placed by its own authority (the text's context picks the sense)
            out.places.append(_place(head, gaz.senses(head), sent, start, seg[n - 1].end,
                                     order, qualifier=True))
            break
        if place:
            # "Chicago Police Department" names its home; "Jos Verstappen" only a person
            if (any(w in ORG_HEADS for w in folded[n:]) or gaz.demonym(head) or cue == "of"
                    ) and not any(w in MEDIA_HEADS for w in folded[n:]):
                out.places.append(_place(head, _senses_of(place, gaz), sent, start,
                                         seg[n - 1].end, order, qualifier=True))
            if cue == "of" or (gaz.demonym(head) and not has_org):
                seg, words, folded = seg[n:], words[n:], folded[n:]
            break
    if "of" in words:
        tail = words[words.index("of") + 1 :]
        tail = tail[1:] if tail[:1] == ["the"] else tail
        place = gaz.lookup(" ".join(tail)) if tail else None
        if place:
            out.places.append(_place(" ".join(tail), _senses_of(place, gaz), sent,
                                     seg[-len(tail)].start, end, order, qualifier=True))
    if (len(seg) > 1 and seg[0].initial and common_word(words[0], lower_vocab)
            and fold(words[1]) not in ("of", "the")):
        seg, words = seg[1:], words[1:]  # "Following Morsi's ouster"
    if capitalised:
        return -1  # Title Case lines capitalise everything: places only
    out.actors.append(_actor(words, seg, sent, cue, order))
    return -1


def _senses_of(canonical: str, gaz: Gazetteer) -> tuple[Entry, ...]:
    entry = gaz.defaults.get(canonical)
    return (entry,) if entry else ()


def _place(surface: str, senses: tuple[Entry, ...], sent: Sentence, start: int, end: int,
           order: int, **notes: object) -> PlaceMention:
    text = sent.text
    before = text[max(0, start - 30) : start]
    mention = PlaceMention(surface, senses, sent, start, end, order, **notes)  # type: ignore[arg-type]
    mention.locative = _locative(text, start)
    mention.motion = bool(_MOTION.search(before))
    mention.future = not sent.in_title and bool(
        _FUTURE.search(text[max(0, start - WINDOW) : start]))
    mention.event = bool(EVENT_WORDS.search(text[max(0, start - WINDOW) : end + WINDOW]))
    return mention


def _locative(text: str, start: int) -> bool:
    return bool(_LOCATIVE.search(text[max(0, start - 30) : start]))


def _container(text: str, end: int, senses: tuple[Entry, ...],
               gaz: Gazetteer) -> tuple[Entry | None, int]:
    """The state or country written after a place ("Erie, Pa.", "Paris, Texas",
    "Mazar-i-Sharif, Afghanistan") that one of its senses lies in; and where it ends."""
    m = _CONTAINER.match(text, end, end + 40)
    if not m:
        return None, -1
    words = m["c"].split()
    for n in range(len(words), 0, -1):
        phrase = " ".join(words[:n])
        code = gaz.state_code(phrase)
        outers = [gaz.states_by_code[code]] if code in gaz.states_by_code else []
        outers += [e for e in gaz.senses(phrase.rstrip(".")) if e.kind in ("country", "region")]
        for outer in outers:
            if any(gaz.contains(outer, s) for s in senses):
                return outer, m.start("c") + len(phrase)
    return None, -1


def _acts(sentence: str, start: int, end: int) -> bool:
    """A name opening a clause with a verb after it: "North Korea fired", "Russia has said"."""
    return bool(_CLAUSE_START.search(sentence[max(0, start - 8) : start])) and bool(
        _VERB_AFTER.match(sentence[end : end + WINDOW]))


def _actor(words: list[str], seg: list[Tok], sent: Sentence, cue: str, order: int,
           place_word: bool = False) -> ActorMention:
    text = sent.text
    last = seg[-1]
    _, _, cut = clean_token(text[last.start : last.end])
    modifier = cut[:1] in ("-", "'", "’") or bool(_ROLE_AFTER.match(text, last.end))
    return ActorMention(
        words, sent, seg[0].start, last.end, order, cue=cue, modifier=modifier,
        after_the=text[max(0, seg[0].start - 4) : seg[0].start] in ("the ", "The "),
        initial=len(seg) == 1 and (seg[0].initial or sent.heading), place_word=place_word)


_TITLE_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W\d_]")


def is_titlecase(line: str, every: bool = False) -> bool:
    """Most longer words capitalised (`every`: all of at least four): a Title Case headline
    or a headline repeated in the body, where capitals do not mark names."""
    words = _TITLE_WORD.findall(line[:400])
    long_words = [w for w in words if len(w) > 3 and w.casefold() not in STOPWORDS]
    caps = sum(1 for w in long_words if w[:1].isupper())
    if every:  # a line of capitalised words only, not a sentence: "Teen Shot In Chelsea"
        return (len(long_words) >= 4 and line.rstrip()[-1:] not in ".!?\"'”’"
                and not any(w[:1].islower() and w.casefold() not in STOPWORDS for w in words))
    return len(long_words) >= 3 and caps / len(long_words) > 0.7


def is_name(words: list[str]) -> bool:
    """Whether these words can name an actor at all (not furniture, digits, a lone particle,
    a shouted heading, an event, a feature or a feast)."""
    if not words or any(ch.isdigit() for w in words for ch in w):
        return False
    if any(w.casefold().endswith(CONTRACTIONS) for w in words):
        return False  # "I've", "We're"
    folded = [fold(w) for w in words]
    if all(w in NOT_NAMES or w in STOPWORDS or w in ADJECTIVES for w in folded):
        return False
    if len(words) == 1 and len(words[0]) < 2:
        return False
    if len(words) > 1 and all(shouted(w) for w in words):
        return False  # "USA TODAY", "BREAKING NEWS"
    return not (folded[-1] in EVENT_HEADS or folded[-1] in FEATURE_HEADS
                or any(w in HOLIDAYS for w in folded))
