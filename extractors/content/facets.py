"""Who, where, when and what of one article, without downloaded models.

Clustering compares events by their actors, places and dates, so these must be cheap (a few ms
per article) and deterministic. Everything here is heuristics over capitalised word sequences
plus packaged gazetteers (see facets_places) and hand-written date patterns (see facets_dates):

- actors: capitalised sequences; titles ("Prime Minister", "spokesman") are cues, not names;
  organisation heads ("Ministry", "Council") mark organisations; places and demonyms are routed
  to places; a surname alone joins the full name seen elsewhere in the article.
- places: gazetteer hits, demonyms ("Armenian" -> Armenia), the dateline city first.
- dates: resolved against the publication date; event_date weighs the lead and event words up
  and background ("since", "last year") and reporting dates ("said yesterday") down.
- keywords: frequent content words and word pairs, weighted by position.

Every mention is weighted by where it sits: title 3, lead (first two sentences) 2, elsewhere 1.
A better actor extractor (e.g. spaCy) can be plugged in with `set_actor_extractor`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import regex

from extractors.content.dates import MONTHS, WEEKDAYS, DateMention, find_dates
from extractors.content.places import Gazetteer, fold, gazetteer
from extractors.content.text import RUSSIAN_FUNCTION_WORDS
from extractors.models import Facets

MAX_ACTORS = 10
MAX_PLACES = 10
MAX_KEYWORDS = 8
MAX_TEXT_CHARS = 60_000  # ~10,000 words: facets come from the top of an article anyway

TITLE_WEIGHT, LEAD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
LEAD_SENTENCES = 2
DATELINE_BONUS = 4.0
PERSON_CUE_FACTOR = 2.0  # "President X": a named office holder is rarely a side figure
# A report is mostly about the last few days: a date more than RECENT_DAYS before publication
# is more often background ("after the August 29 launch") than the event. On giveme5w1h
# (dev) 0.5 beyond 3 days raised clustering B-cubed F1 from 0.782 to 0.790 (3/7/14 days and
# 0.2-0.6 compared).
RECENT_DAYS = 3
OLDER_DATE_FACTOR = 0.5
# Most news is about the day it is published: the publication day competes for the event date
# with this score (one body mention next to an event word scores 2). On giveme5w1h (dev)
# 1.0 raised clustering B-cubed F1 from 0.790 to 0.805 (0.5 / 1 / 2 / 3 / 5 compared; higher
# gained little more and overrules single explicit mentions).
PUBLICATION_PRIOR = 1.0


class ActorExtractor(Protocol):
    def __call__(self, title: str, text: str) -> list[str]: ...


_custom_actor_extractor: ActorExtractor | None = None


def set_actor_extractor(extractor: ActorExtractor | None) -> None:
    """Use `extractor` for actors from now on (None restores the built-in heuristics)."""
    global _custom_actor_extractor
    _custom_actor_extractor = extractor


# --- word lists ---------------------------------------------------------------------------


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS = _wordset(
    """a about above after again against all almost also although always am among an and any
    are around as at be because been before being below between both but by can could did do
    does doing down during each either else even ever every few for from further had has have
    having he her here hers herself him himself his how however i if in into is it its itself
    just least less many may me meanwhile might more most much must my myself neither never no
    nor not now of off often on once one only or other others our ours ourselves out over own
    perhaps quite rather same several she should since so some still such than that the their
    theirs them themselves then there these they this those though through thus to too toward
    towards under until up upon us very via was we were what whatever when where whether which
    while who whom whose why will with within without would yet you your yours yourself
    said says say saying told tell added according reportedly currently already including
    another new first last next two three four five six seven eight nine ten year years
    week weeks month months day days time times today yesterday tomorrow people percent
    per cent well back way made make makes like get got going went come came take took see seen
    mr mrs ms dr many much lot lots thing things something anything nothing everything
    there's it's that's he's she's they're we're i'm don't didn't doesn't isn't wasn't can't
    won't would've could've told asked called later earlier early late since ago
    ago around about near following expected work hold holds held continue continues
    need needs want wants whether amid"""
) | RUSSIAN_FUNCTION_WORDS
# Capitalised words that are page furniture, sentence openers or abbreviations of common
# nouns ("CCTV", "ДТП": road accident), never names.
_NOT_NAMES = _wordset(
    """photo photos video videos image images enlarge caption toggle advertisement read more
    continue reading email share click follow subscribe update updated getty via ap reuters
    afp file here there this that these those it he she they we i you his her their our its
    what when where why how who which while yes no ok okay mr mrs ms dr sir madam please
    tv eve hide sign replay watch watched related play playing live breaking exclusive opinion
    analysis comments comment loading cctv dna gps atm sms pdf suv
    дтп сми чп вуз жкх смс"""
)
# Adjectives and directions: part of names ("North Korea", "Christian Estrosi"), never one alone.
_ADJECTIVES = _wordset(
    """north south east west islamic islamist jewish christian muslim arab arabic african
    european asian western eastern northern southern korean soviet orthodox catholic sunni
    shiite shia hispanic latino black white god internet web online"""
)
# Title words: they cue the name that follows and are not part of it.
_TITLES = _wordset(
    """president vice prime minister ministers chancellor premier king queen prince princess
    pope mallam alhaji sen senator rep representative gov governor mayor secretary judge
    justice ambassador
    spokesman spokeswoman spokesperson chairman chairwoman chief ceo director mr mrs ms dr
    prof professor sir lord lady dame rabbi imam bishop archbishop cardinal father sheikh
    leader commander detective sgt sergeant capt captain lt lieutenant col colonel gen
    adm admiral deputy foreign defense defence interior finance state envoy emir general-secretary
    secretary-general officer inspector constable coach manager striker midfielder
    quarterback qb rapper singer actor actress star founder head counsel attorney
    congressman congresswoman former late ex
    президент премьер-министр премьер министр губернатор мэр глава председатель депутат
    сенатор посол спикер генсек патриарх канцлер вице-премьер замминистра бывший экс-президент"""
)
# Last words of organisation names.
_ORG_HEADS = _wordset(
    """ministry ministries council union inc corp corporation company co ltd llc plc group
    party bank agency department office committee commission court parliament assembly
    congress senate police army navy force forces guard guards university institute
    association federation foundation organization organisation brigade service services
    authority bureau administration board club airlines air airways network fund trust port
    temple church hospital school center centre league alliance movement front cabinet
    government republic kingdom nations tribunal agentur international industries holdings
    motors systems technologies labs studios records entertainment media partnership
    chiefs staff"""
)
# Publications named after places ("The New York Times") do not locate the story there.
_MEDIA_HEADS = _wordset("times post news journal herald tribune press telegraph daily")
# "Russia-brokered", "California-based": the capitalised part is a place or actor on its own.
_HYPHEN_SUFFIXES = _wordset(
    """based led backed brokered mediated era style born owned made bound controlled run
    linked sponsored related wide friendly speaking funded allied dominated held occupied
    registered listed level class type like language area region"""
)
_NAME_PARTICLES = _wordset("of the de du da del della van von der den la le bin ibn al el")
_ABBREVIATIONS = _wordset(
    """mr mrs ms dr st jr sr gen col lt sgt capt gov sen rep prof inc corp co ltd vs no
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft u.s u.k u.n e.g i.e"""
)
_CONTRACTIONS = ("'ve", "’ve", "'ll", "’ll", "'m", "’m", "'re", "’re", "'d", "’d")
_AMBIGUOUS_MONTHS = frozenset({"may", "march", "april", "june", "august", "mar", "jun", "jul"})

# Only words that can be part of a name: capitalised, "el-Sissi", or a particle ("of", "van").
# Anything else between two matches (a lower-case word, a comma, a digit) ends the run.
_TOKEN = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}'’-])"
    r"(?:\p{Lu}|(?:al|el|ad|as|bin|ibn|abu)-\p{Lu}|(?:of|the|de|du|da|del|della|van|von|der|den"
    r"|la|le|bin|ibn|al|el)(?![\p{L}\p{M}\p{N}'’-]))"
    r"[\p{L}\p{M}\p{N}]*(?:[-'’.&/]\p{L}[\p{L}\p{M}\p{N}]*)*\.?"
)
_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*\s+|\n+")
_DATELINE = regex.compile(
    r"(?:^|\s)(?P<city>\p{Lu}{3,}(?:[ -]\p{Lu}{2,}){0,2})"
    r"(?:,\s*(?P<region>\p{Lu}[\p{L}.]*(?:\s\p{Lu}[\p{L}.]*){0,2}))?"
    r"\s*(?:\([^)]{1,30}\)\s*)?(?:--|—|–)\s"
)
_EVENT_WORDS = re.compile(
    r"\b(meet|meets|met|meeting|talks|summit|held|hold|holds|took place|take place|agreed to"
    r"|scheduled|signed|attack|attacked|killed|crash|crashed|launch|launched|fired|exploded"
    r"|struck|hit|arrested|convicted|sentenced|elected|voted|died|won|released|fighting"
    r"|happened|occurred|derailed|collided|seized|raised|approved|opened|visit|visited)\b",
    re.IGNORECASE,
)
_BACKGROUND_WORDS = re.compile(
    r"\b(since|previous|previously|earlier|ago|former|formerly|the last|last year|in the past"
    r"|anniversary|history|historic|used to|had been|once)\b",
    re.IGNORECASE,
)
_REPORTING_BEFORE = re.compile(
    r"\b(said|says|told|announced|added|confirmed|reported|stated|wrote|tweeted)\s+(on\s+)?$",
    re.IGNORECASE,
)
_REPORTING_AFTER = re.compile(
    r"^\s*,?\s*(said|says|told|announced|added|confirmed|reported|stated|wrote|tweeted)\b",
    re.IGNORECASE,
)


# --- sentences and capitalised sequences ------------------------------------------------------


@dataclass(frozen=True)
class _Sentence:
    text: str
    start: int  # offset in the analysed text
    weight: float
    in_title: bool


def _sentences(title: str, text: str) -> list[_Sentence]:
    """Title first, then body sentences; splits on . ! ? unless after an abbreviation.

    A sentence seen before (the headline repeated as the first line, a caption shown twice)
    is skipped, so furniture does not outweigh the story."""
    out = [_Sentence(title, -1, TITLE_WEIGHT, True)] if title.strip() else []
    seen = {fold(title)}
    start = 0
    index = 0

    def add(chunk: str, at: int) -> None:
        nonlocal index
        key = fold(chunk)
        if not key or key in seen:
            return  # repeated captions and widgets are furniture; count them once
        seen.add(key)
        weight = LEAD_WEIGHT if index < LEAD_SENTENCES else BODY_WEIGHT
        out.append(_Sentence(chunk, at, weight, False))
        index += 1

    for m in _SENTENCE_END.finditer(text):
        before = text[max(start, m.start() - 12) : m.start() + 1]
        last_word = before.split()[-1].casefold().rstrip(".") if before.split() else ""
        after = text[m.end() : m.end() + 1]
        if "\n" not in m.group() and (
            last_word in _ABBREVIATIONS or len(last_word) == 1 or (after and after.islower())
        ):
            continue
        add(text[start : m.end()], start)
        start = m.end()
    add(text[start:], start)
    return out


@dataclass
class _Tok:
    text: str
    start: int
    end: int
    initial: bool  # first word of its sentence


def _is_cap(word: str) -> bool:
    if word[:1].isupper():
        return True
    head, dash, rest = word.partition("-")  # "el-Sissi", "al-Assad"
    return bool(dash) and head in _NAME_PARTICLES and rest[:1].isupper()


def _clean_token(word: str) -> tuple[str, bool]:
    """Strip possessives, trailing dots and lowercase hyphen suffixes; True if the run ends here."""
    ends = False
    for suffix in ("'s", "’s"):
        if word.endswith(suffix) and word.casefold() != "people" + suffix:
            word, ends = word[: -len(suffix)], True
    if word.endswith(".") and fold(word) not in _ABBREVIATIONS and word.count(".") == 1:
        word = word[:-1]
    if "-" in word:
        parts = word.split("-")
        last = parts[-1]
        if parts[0][:1].isupper() and (
            last.casefold() in _HYPHEN_SUFFIXES or (last.islower() and last.endswith("ed"))
        ):
            word, ends = "-".join(parts[:-1]), True
    return word, ends


def _runs(sentence: str) -> Iterator[list[_Tok]]:
    """Maximal runs of capitalised words (with name particles inside) in one sentence."""
    run: list[_Tok] = []
    prev_end = None
    first = len(sentence) - len(sentence.lstrip())
    for m in _TOKEN.finditer(sentence):
        raw = m.group()
        word, ends = _clean_token(raw)
        gap_ok = prev_end is not None and sentence[prev_end : m.start()] in (" ", "  ")
        initial = m.start() == first
        if (
            not word
            or word[0].isdigit()
            or not (_is_cap(word) or (run and gap_ok and _particle_fits(word, run[-1].text)))
        ):
            if run:
                yield run
            run, prev_end = [], None
            continue
        if run and not gap_ok:
            yield run
            run = []
        run.append(_Tok(word, m.start(), m.end(), initial))
        prev_end = m.end()
        if ends:
            yield run
            run, prev_end = [], None
    if run:
        yield run


def _particle_fits(word: str, previous: str) -> bool:
    """'of' joins organisations and titles ("Ministry of Defence"), not "Aliyev of Azerbaijan"."""
    if word not in _NAME_PARTICLES:
        return False
    if word == "of":
        low = previous.casefold()
        return low in _ORG_HEADS or low in _TITLES
    if word == "the":
        return previous == "of"
    return True


def _is_date_word(tok: _Tok, sentence: str) -> bool:
    low = tok.text.casefold().rstrip(".")
    if low in WEEKDAYS:
        return True
    if low in MONTHS:
        if low in _AMBIGUOUS_MONTHS:  # "May" or "June" may be names: a number or "in" decides
            follow = sentence[tok.end : tok.end + 4].strip()
            before = sentence[max(0, tok.start - 8) : tok.start].split()[-1:]
            return bool(follow[:1].isdigit()) or before in (["in"], ["since"], ["until"])
        return True
    return False


def _segments(run: list[_Tok], sentence: str) -> Iterator[tuple[list[_Tok], str]]:
    """Split a run at title words and date words; yield (segment, cue).

    cue is "" for no title, "title" after one ("President X"), "of" after one ending in "of"
    ("Mayor of London Sadiq Khan": the place after it qualifies the title, not the name)."""
    seg: list[_Tok] = []
    cued = ""
    i = 0
    while i < len(run):
        tok = run[i]
        low = tok.text.casefold().rstrip(".")
        if _is_date_word(tok, sentence):
            if seg:
                yield seg, cued
            seg, cued = [], ""
            i += 1
            continue
        if low in _TITLES:
            j = i
            while j < len(run) and (
                run[j].text.casefold().rstrip(".") in _TITLES
                or (run[j].text in ("of", "the") and j + 1 < len(run))
            ):
                j += 1
            if j < len(run) and run[j].text.casefold() in _ORG_HEADS:
                seg.extend(run[i:j])  # "Foreign Ministry": part of an organisation's name
                i = j
                continue
            if seg:
                yield seg, cued
            seg, cued = [], ("of" if run[j - 1].text == "of" else "title")
            i = j
            continue
        shouted = len(tok.text) >= 5 and tok.text.isupper()  # "WATCHED North Korea"
        if not seg and (
            shouted
            or (low in STOPWORDS and low != "new")
            or low in _NOT_NAMES
            or tok.text in _NAME_PARTICLES
        ):
            i += 1
            continue
        seg.append(tok)
        i += 1
    while seg and seg[-1].text in _NAME_PARTICLES:
        seg.pop()
    if seg:
        yield seg, cued


# --- actors and places ------------------------------------------------------------------------


@dataclass
class _Candidate:
    surface: str
    weight: float = 0.0
    first: int = 10**9  # order of the first mention
    only_initial: bool = True  # every mention was a lone word opening a sentence


@dataclass
class _Found:
    actors: dict[str, _Candidate]
    places: dict[str, float]
    first_place: dict[str, int]


def _place_of(tokens: list[str], gaz: Gazetteer) -> str | None:
    name = " ".join(tokens)
    return gaz.lookup(name) or gaz.demonym(name)


def _prefix_place(tokens: list[str], gaz: Gazetteer) -> tuple[str, int] | None:
    for n in range(min(len(tokens) - 1, gaz.max_words), 0, -1):
        place = _place_of(tokens[:n], gaz)
        if place:
            return place, n
    return None


def _scan(
    sentences: list[_Sentence], title_is_titlecase: bool, gaz: Gazetteer, lower_vocab: set[str]
) -> _Found:
    found = _Found({}, defaultdict(float), {})
    order = 0

    def add_place(place: str, weight: float) -> None:
        found.places[place] += weight
        found.first_place.setdefault(place, order)

    for sent in sentences:
        for run in _runs(sent.text):
            for seg, cued in _segments(run, sent.text):
                order += 1
                words = [t.text for t in seg]
                place = _place_of(words, gaz)
                if place:
                    add_place(place, sent.weight)
                    continue
                if len(seg) == 1 and "-" in words[0]:
                    parts = [_place_of([p], gaz) for p in words[0].split("-")]
                    if all(parts):
                        for p in parts:
                            add_place(p, sent.weight)  # "Armenian-Azerbaijani border"
                        continue
                folded = [w.casefold() for w in words]
                has_org = any(w in _ORG_HEADS for w in folded)
                prefix = _prefix_place(words, gaz)
                if prefix:
                    pname, n = prefix
                    rest = folded[n:]
                    # "Swiss Crystal", "Mayor of London Sadiq Khan": the place is a qualifier.
                    qualifier = cued == "of" or gaz.demonym(" ".join(words[:n])) is not None
                    if any(w in _ORG_HEADS for w in rest) or qualifier:
                        if not any(w in _MEDIA_HEADS for w in rest):
                            add_place(pname, sent.weight)
                        if qualifier and not has_org:
                            seg, words = seg[n:], words[n:]
                if "of" in words:
                    tail = words[words.index("of") + 1 :]
                    tail = tail[1:] if tail[:1] == ["the"] else tail
                    tail_place = _place_of(tail, gaz) if tail else None
                    if tail_place:
                        add_place(tail_place, sent.weight)
                if sent.in_title and title_is_titlecase:
                    continue  # Title Case headlines capitalise everything: places only
                if (
                    len(seg) > 1
                    and seg[0].initial
                    and words[1] not in _NAME_PARTICLES
                    and _common_word(words[0], lower_vocab)
                ):
                    seg, words = seg[1:], words[1:]  # "Following Morsi's ouster"
                _add_actor(found.actors, seg, words, sent.weight, cued, order)
    return found


def _common_word(word: str, lower_vocab: set[str]) -> bool:
    """A capitalised word that is an ordinary word here: used lower-case, or an -ly/-ing form."""
    low = word.casefold()
    return low in lower_vocab or low.endswith(("ly", "ing")) or low in STOPWORDS


def _add_actor(
    actors: dict[str, _Candidate],
    seg: list[_Tok],
    words: list[str],
    weight: float,
    cued: str,
    order: int,
) -> None:
    if not words or any(ch.isdigit() for w in words for ch in w):
        return
    if any(w.casefold().endswith(_CONTRACTIONS) for w in words):
        return  # "I've", "We're"
    folded = [fold(w) for w in words]
    if all(w in _NOT_NAMES or w in STOPWORDS or w in _ADJECTIVES for w in folded):
        return
    if len(words) == 1 and len(words[0]) < 2:
        return
    key = " ".join(folded)
    cand = actors.get(key)
    if cand is None:
        cand = actors[key] = _Candidate(" ".join(words))
    cand.weight += weight * (PERSON_CUE_FACTOR if cued else 1.0)
    cand.first = min(cand.first, order)
    cand.only_initial = cand.only_initial and len(seg) == 1 and seg[0].initial


def _merge_actors(
    actors: dict[str, _Candidate], lower_vocab: set[str], nouns_capitalised: bool = False
) -> list[_Candidate]:
    """Join variants ("Pashinian" -> "Nikol Pashinian") and total their weights.

    With `nouns_capitalised` (German) a lone capitalised word is too often a common noun, so
    single words count only as parts of longer names."""
    by_token: dict[str, list[str]] = defaultdict(list)
    for k in sorted(k for k in actors if " " in k):
        for tok in set(k.split()):
            by_token[tok].append(k)
    keep = {}
    for key, cand in actors.items():
        lone = " " not in key and key not in by_token  # not part of any longer name here
        if lone and (nouns_capitalised or cand.only_initial or _common_word(key, lower_vocab)):
            continue  # a sentence opener or a common word, not a name
        keep[key] = cand
    target: dict[str, str] = {}
    for key in sorted(keep, key=lambda k: (len(k.split()), k)):
        toks = key.split()
        longer = [
            m
            for m in by_token.get(toks[0], ())
            if len(m.split()) > len(toks) and _contains(m.split(), toks)
        ]
        if len(toks) == 1 and longer:
            by_last = [m for m in longer if m.split()[-1] == toks[0]]
            longer = by_last or longer
        elif len(toks) > 1 and len(longer) > 1:
            continue  # "Foreign Ministry" inside two different ministries: leave it alone
        if longer:
            target[key] = max(longer, key=lambda m: (keep[m].weight, m))
    totals: dict[str, _Candidate] = {}
    for key, cand in keep.items():
        root = key
        while root in target:
            root = target[root]
        if "-" in key and " " not in key and root == key:
            parts = [p for p in key.split("-") if p in target or p in keep]
            if len(parts) == len(key.split("-")) > 1:  # "Pashinian-Aliyev meeting"
                for part in parts:
                    _credit(totals, keep, target.get(part, part), cand)
                continue
        _credit(totals, keep, root, cand)
    return list(totals.values())


def _credit(
    totals: dict[str, _Candidate], keep: dict[str, _Candidate], root: str, cand: _Candidate
) -> None:
    if root not in keep:
        return
    total = totals.setdefault(root, _Candidate(keep[root].surface, first=keep[root].first))
    total.weight += cand.weight
    total.first = min(total.first, cand.first)


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _dateline_place(text: str, gaz: Gazetteer) -> str | None:
    """'BRUSSELS --' or 'SAN JOSE, Costa Rica —' near the top of the article."""
    m = _DATELINE.search(text[:800])
    if not m:
        return None
    city = fold(m["city"])
    region = gaz.lookup(m["region"]) if m["region"] else None
    code = gaz.country_codes.get(region or "")
    if code and code in gaz.cities_by_country.get(city, {}):
        return gaz.cities_by_country[city][code]
    return gaz.lookup(city)


# --- dates -----------------------------------------------------------------------------------


def _date_scores(
    sentences: list[_Sentence], text: str, published: date | None
) -> dict[date, float]:
    scores: dict[date, float] = defaultdict(float)
    body = [sent for sent in sentences if not sent.in_title]
    starts = [sent.start for sent in body]
    for sent in sentences[: len(sentences) - len(body)]:  # the title
        for mention in find_dates(sent.text, published):
            scores[mention.value] += _date_weight(sent, mention, published)
    for mention in find_dates(text, published):  # one pass over the body, then locate
        i = bisect_right(starts, mention.start) - 1
        if i < 0:
            continue
        sent = body[i]
        local = DateMention(
            mention.value, mention.start - sent.start, mention.end - sent.start, mention.relative
        )
        scores[mention.value] += _date_weight(sent, local, published)
    return scores


def _date_weight(sent: _Sentence, mention: DateMention, published: date | None) -> float:
    s = sent.text
    weight = sent.weight
    window = s[max(0, mention.start - 60) : mention.end + 60]
    if _EVENT_WORDS.search(window):
        weight *= 2.0
    elif _EVENT_WORDS.search(s):
        weight *= 1.5
    if _BACKGROUND_WORDS.search(s[: mention.start]):
        weight *= 0.4
    if _REPORTING_BEFORE.search(s[max(0, mention.start - 20) : mention.start]) or (
        _REPORTING_AFTER.search(s[mention.end : mention.end + 20])
    ):
        weight *= 0.5
    if mention.relative and " " in s[mention.start : mention.end].strip():
        weight *= 0.7  # "last week", "last month": vague
    if published:
        days = (mention.value - published).days
        if days > 60 or days < -400:  # far ahead or long ago: context, not the news
            weight *= 0.3
        elif days < -RECENT_DAYS:
            weight *= OLDER_DATE_FACTOR
    return weight


# --- keywords --------------------------------------------------------------------------------

_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]*[a-z]\b")  # English keywords
# Words in any script (filtered to lower-case ones by `_lower_vocab`): a capitalised word
# that is also used lower-case is an ordinary word. `re` and str.islower are 2.5x faster here
# than a `regex` \p{Ll} pattern.
_ANY_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]+(?:['’-][^\W\d_]+)*(?!\w)")
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'’-]*\p{L}")


def _lower_vocab(text: str) -> set[str]:
    return {w for w in _ANY_WORD.findall(text) if len(w) > 1 and w.islower()}


def _lemma(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _keywords(sentences: list[_Sentence]) -> list[str]:
    uni: Counter[str] = Counter()
    uni_weight: dict[str, float] = defaultdict(float)
    bi: Counter[str] = Counter()
    bi_weight: dict[str, float] = defaultdict(float)
    for sent in sentences:
        prev = None
        for m in _LOWER_WORD.finditer(sent.text):
            low = m.group()
            if len(low) < 4 or low in STOPWORDS:
                prev = None
                continue
            lemma = _lemma(low)
            uni[lemma] += 1
            uni_weight[lemma] += sent.weight
            if prev is not None and sent.text[prev[1] : m.start()] == " ":
                pair = f"{prev[0]} {lemma}"
                bi[pair] += 1
                bi_weight[pair] += sent.weight
            prev = (lemma, m.end())
    scored = [(w * 1.5, p) for p, w in bi_weight.items() if bi[p] >= 2]
    scored += [
        (w, u)
        for u, w in uni_weight.items()
        if (uni[u] >= 2 or w >= TITLE_WEIGHT) and not u.endswith(("ed", "ly"))  # nouns, mostly
    ]
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[str] = []
    for _, term in scored:
        if any(term in c.split() for c in chosen if " " in c):
            continue
        chosen.append(term)
        if len(chosen) == MAX_KEYWORDS:
            break
    return chosen


# --- public API ------------------------------------------------------------------------------


def _is_titlecase(title: str) -> bool:
    long_words = [w for w in _WORD.findall(title) if len(w) > 3 and w.casefold() not in STOPWORDS]
    caps = sum(1 for w in long_words if w[:1].isupper())
    return len(long_words) >= 3 and caps / len(long_words) > 0.7


def extract_facets(
    title: str, text: str, published: datetime | None = None, language: str | None = None
) -> Facets:
    """Actors, places, dates, event date and keywords of one article, most prominent first.

    Pure and deterministic; never raises on any string. The heuristics are written for
    English, with Russian places (in any case), dates, titles and function words added;
    `language` (ISO 639-1) only switches off lone-word actors for German, which capitalises
    every noun.
    """
    title = (title or "")[:1000]
    text = (text or "")[:MAX_TEXT_CHARS]
    pub = published.date() if isinstance(published, datetime) else published
    gaz = gazetteer()
    sentences = _sentences(title, text)
    lower_vocab = _lower_vocab(text)
    found = _scan(sentences, _is_titlecase(title), gaz, lower_vocab)

    dateline = _dateline_place(text, gaz)
    if dateline:
        found.places[dateline] += DATELINE_BONUS
        found.first_place[dateline] = -1
    places = sorted(found.places, key=lambda p: (-found.places[p], found.first_place[p], p))

    if _custom_actor_extractor is not None:
        actors = list(dict.fromkeys(_custom_actor_extractor(title, text)))
    else:
        merged = _merge_actors(found.actors, lower_vocab, nouns_capitalised=language == "de")
        if _is_titlecase(title):
            _title_boost(merged, title)
        merged.sort(key=lambda c: (-c.weight, c.first, c.surface))
        actors = [c.surface for c in merged]

    scores = _date_scores(sentences, text, pub)
    dates = _by_score(scores, pub)
    event_date = _event_date(scores, pub)

    return Facets(
        actors=tuple(actors[:MAX_ACTORS]),
        places=tuple(places[:MAX_PLACES]),
        event_date=event_date,
        dates=tuple(dates),
        keywords=tuple(_keywords(sentences)),
    )


def _event_date(scores: dict[date, float], published: date | None) -> date | None:
    """The best-scored date, with the publication day as a candidate of PUBLICATION_PRIOR
    on top of its own mentions: a lone weak or far-off mention does not outweigh it."""
    if published is not None:
        scores = {**scores, published: scores.get(published, 0.0) + PUBLICATION_PRIOR}
    ranked = _by_score(scores, published)
    return ranked[0] if ranked else None


def _by_score(scores: dict[date, float], published: date | None) -> list[date]:
    """Dates best first; ties go to the one nearest publication, then the earlier."""
    return sorted(
        scores, key=lambda d: (-scores[d], abs((d - published).days) if published else 0, d)
    )


def _title_boost(merged: list[_Candidate], title: str) -> None:
    """Title Case headlines are not mined for names; names found in the body that the
    headline repeats (often by surname only) get the title's weight."""
    title_words = {fold(w) for w in _WORD.findall(title)}
    for cand in merged:
        if any(fold(w) in title_words for w in cand.surface.split() if len(w) > 2):
            cand.weight += TITLE_WEIGHT
