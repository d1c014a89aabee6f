"""Text normalisation in one place.

Stored text keeps the original characters; `normalize_for_matching` produces the folded form
that hashing, deduplication and clustering compare, so every stage agrees on "the same text".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Typographic characters folded to ASCII for matching only.
_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    "\u2026": "...",
}
# One regex pass finds them: str.translate with a dict looks up every character, half the
# time normalising a news text took; an ASCII text has nothing to fold.
_FOLDED = re.compile("[" + "".join(_FOLD) + "]")

# Lines that are leftovers of page furniture, not article text.
_BOILERPLATE_LINE = re.compile(
    r"^\s*(advertisement|advertisements|sponsored|read more|read more:.*|continue reading"
    r"|share( this)?( article| story)?|share on (facebook|twitter|x|linkedin|whatsapp)"
    r"|(facebook|twitter|whatsapp|linkedin|email|print)(\s*[|/·]\s*"
    r"(facebook|twitter|whatsapp|linkedin|email|print))*"
    r"|related( articles| stories)?:?|click here to subscribe.*|sign up for our newsletter.*)\s*$",
    re.IGNORECASE,
)
# Russian function words (and the commonest reporting words), for clustering's matching
# tokens and for facets, where a capitalised one opens a sentence and is never a name.
RUSSIAN_FUNCTION_WORDS = frozenset(
    """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне
    было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него
    до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для
    мы тебя их чем была сам чтобы без будто чего раз тоже себе под будет ж тогда кто этот того
    потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем
    всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего
    них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя
    такой им более всегда конечно всю между это заявил сообщил году года
    """.split()  # noqa: SIM905
)
# English function words, reporting verbs and time words: never keywords, blocking keys or
# names on their own. The one stopword list of the project (facets and clustering use it).
ENGLISH_STOPWORDS = frozenset(
    """a about above after again against all almost also although always am among amid an and
    another any are around as at back be because been before being below between both but by
    came can can't come continue continues could could've day days did didn't do does doesn't
    doing don't down during each going early earlier either else even ever every everything expected
    few first following for from further get got had has have having he he's held her here hers
    herself him himself his hold holds how however i i'm if in including into is isn't it it's
    its itself just last late later latest least less like lot lots made make makes many may me
    meanwhile might month months more most mr mrs ms dr much must my myself near need needs
    neither never new news next no nor not nothing now of off often on once one only or other
    others our ours ourselves out over own people per percent cent perhaps quite rather
    already according reportedly currently added asked called report reports reported said same
    say saying says see seen several she she's should since so some something anything still
    such take than that that's the their theirs them themselves then there there's these they
    they're thing things this those though through thus time times to today told tell tomorrow
    too took toward towards two three four five six seven eight nine ten under until up update
    updates upon us very via want wants was wasn't way we we're week weeks well went were what
    whatever when where whether which while who whom whose why will with within without won't
    work would would've year years yesterday yet you your yours yourself ago
    monday tuesday wednesday thursday friday saturday sunday""".split()  # noqa: SIM905
)
STOPWORDS = ENGLISH_STOPWORDS | RUSSIAN_FUNCTION_WORDS
_SPACES = re.compile(r"[ \t\f\v]+")
_CUT = re.compile(r"[ \n]")  # where a raw text may be cut (see opening_of_prefix)
_WORD = re.compile(r"\w+", re.UNICODE)


def clean_text(text: str) -> str:
    """NFC, tidy whitespace and drop leftover furniture lines; keeps original characters."""
    text = unicodedata.normalize("NFC", text)
    lines = []
    for raw in text.splitlines():
        line = _SPACES.sub(" ", raw.replace("\u00a0", " ")).strip()
        if not line or _BOILERPLATE_LINE.match(line):
            continue
        lines.append(line)
    return "\n".join(lines)


def normalize_for_matching(text: str) -> str:
    """Fold case, quotes, dashes and whitespace so trivially different copies compare equal."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = _FOLDED.sub(lambda m: _FOLD[m.group()], text)
    # str.split() splits at runs of any whitespace, tabs and no-break spaces included.
    return " ".join(text.casefold().split())


def _first_cut(chars: int) -> int:
    """Where `opening_of_prefix` first cuts a raw text for `chars` normalised characters: an
    eighth more, since normalising mostly shrinks a text a little (checked there, not assumed)."""
    return chars + chars // 8


def opening(text: str, chars: int) -> str:
    """The normalised opening two texts are compared by when one may copy the other:
    `normalize_for_matching(text)[:chars]`, normalising only as much of the text as that needs."""
    if len(text) <= _first_cut(chars):  # too short for a cut to save anything
        return normalize_for_matching(text)[:chars]
    head = opening_of_prefix(text, chars)
    return normalize_for_matching(text)[:chars] if head is None else head


def opening_of_prefix(prefix: str, chars: int) -> str | None:
    """`opening(text, chars)` of every text that starts with `prefix`, or None when `prefix`
    is too short to tell.

    The raw text is cut just before a space or newline: NFKC has a boundary before either (a
    starter that composes with nothing), case folding and the quote/dash fold map character by
    character, and whitespace separates words, so the normalised cut is a prefix of the
    normalised whole. It is kept only when it is at least `chars` long: normalisation may
    shrink a text (whitespace runs, zero-width spaces, combining marks) by any amount, so the
    slack is checked, not assumed; a cut too short is doubled.
    """
    cut, end = _first_cut(chars), -1
    while True:
        space = _CUT.search(prefix, cut)
        # Past the last space of `prefix`, the longest cut it allows.
        last = space.start() if space else max(prefix.rfind(" "), prefix.rfind("\n"))
        if last <= end:
            return None
        end = last
        head = normalize_for_matching(prefix[:end])
        if len(head) >= chars:
            return head[:chars]
        cut = 2 * end + 1


def words(text: str) -> list[str]:
    """Word tokens of the matching form of `text`."""
    return _WORD.findall(normalize_for_matching(text))


def content_hash(text: str) -> str:
    """Stable hash of the matching form of the text: equal for the same text in any wrapper."""
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()[:32]
