"""One record per event, agreed by its articles: who, where, when and the headline to show.

Every original report votes with its own facets (copies repeat an original and do not vote
again); an answer needs support, so the record is what the reports agree on, not the union
of what any of them mentioned (`Event.actors` / `Event.places` keep those lists). A preview
(published before the date its event took place) votes at PREVIEW_VOTE weight: it says what
was planned, a report says what happened.

- who: actors named as main actors by at least half of the votes (by weight), most widely
  named first, then by rank points (first actor of an article 3, second 2, third 1). Variant
  spellings meet under `actor_key`, in any script and transliteration (#27:
  `keys.script_free_key`, "Никол Пашинян" / "Nikol Paschinjan" / "Nikol Pashinian"), and a
  surname alone joins the full name another report gives ("Pashinian" -> "Nikol Pashinian"),
  as does a longer form of it ("Regierungschef Nikol Paschinjan", "Армении Никол Пашинян":
  a title or a country word before the name).
- where: the place most reports name as their main place; a city inside it that at least
  SPECIFIC_SHARE of the votes name wins, as it does inside one article.
- when: the event date most reports give (ties: the earlier).
- headline: a report's (a preview only if there is no report), the one whose own who, where
  and when agree most with the record; ties go to the caller's order (most central first).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from extractors.content.facets import MAX_WHO, SPECIFIC_SHARE, actor_key
from extractors.content.keys import script_free_key
from extractors.content.places import gazetteer
from extractors.models import Actor, ActorType, Article, Place

PREVIEW_VOTE = 0.5
MIN_SUPPORT = 0.5  # share of the vote weight an actor needs to be a main actor of the event


@dataclass(frozen=True)
class EventRecord:
    who: tuple[Actor, ...]
    where: Place | None
    when: date | None
    headline: str
    actor_keys: tuple[str, ...] = ()  # see actor_keys()


def is_preview(article: Article, when: date | None) -> bool:
    """Published before the day its event took place."""
    published = article.published_at or article.fetched_at
    return when is not None and published is not None and published.date() < when


def event_record(reports: Sequence[Article]) -> EventRecord:
    """The agreed record of one event from its original reports, given most central first."""
    if not reports:
        return EventRecord((), None, None, "")
    when = _vote_when(reports, {a.id: 1.0 for a in reports})
    weights = {a.id: PREVIEW_VOTE if is_preview(a, when) else 1.0 for a in reports}
    when = _vote_when(reports, weights)  # again, with previews weighed down
    who = _vote_who(reports, weights)
    where = _vote_where(reports, weights)
    names = [x.name for a in reports for x in a.facets.who if x.type != "unnamed"]
    names += [name for a in reports for name in a.facets.actors]
    return EventRecord(who, where, when, _headline(reports, weights, who, where, when),
                       actor_keys(names))


def actor_keys(names: Sequence[str]) -> tuple[str, ...]:
    """Comparison keys of these actors, plus each full name's surname ("aliiev" for "Ilham
    Aliyev"), so a watchlist may name someone by surname or in another spelling."""
    keys = {actor_key(name) for name in names}
    keys |= {key.split()[-1] for key in keys if " " in key}
    return tuple(sorted(k for k in keys if k))


def _vote_when(reports: Sequence[Article], weights: dict[str, float]) -> date | None:
    votes: Counter[date] = Counter()
    for a in reports:
        if a.facets.event_date is not None:
            votes[a.facets.event_date] += weights[a.id]
    return min(votes, key=lambda d: (-votes[d], d)) if votes else None


def _vote_who(reports: Sequence[Article], weights: dict[str, float]) -> tuple[Actor, ...]:
    support: Counter[str] = Counter()
    points: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    types: dict[str, Counter[ActorType]] = defaultdict(Counter)
    surnames = _full_names(reports)
    for a in reports:
        seen = set()
        for rank, actor in enumerate(a.facets.who[:MAX_WHO]):
            key = script_free_key(actor.name)
            key = surnames.get(key, key)
            if key in seen:
                continue
            seen.add(key)
            support[key] += weights[a.id]
            points[key] += (MAX_WHO - rank) * weights[a.id]
            spellings[key][actor.name] += weights[a.id]
            types[key][actor.type] += weights[a.id]
    total = sum(weights.values())
    chosen = [k for k in support if support[k] >= MIN_SUPPORT * total]
    chosen.sort(key=lambda k: (-support[k], -points[k], k))
    return tuple(
        Actor(_best_spelling(spellings[k]), types[k].most_common(1)[0][0])
        for k in chosen[:MAX_WHO]
    )


def _full_names(reports: Sequence[Article]) -> dict[str, str]:
    """Key of a name -> key of the one full name across the reports it stands for: a surname
    alone ("pashinian"), or the full name with words before it ("armenii nikol pashinian")
    when every longer name ending in the same two words contains one shortest full name."""
    longer: dict[str, set[str]] = defaultdict(set)
    for a in reports:
        for actor in a.facets.who:
            key = script_free_key(actor.name)
            if " " in key:
                longer[key.split()[-1]].add(key)
    out = {}
    for last, full in longer.items():
        shortest = min(full, key=lambda k: (len(k.split()), k))
        tail = shortest.split()
        if all(k.split()[-len(tail):] == tail for k in full):
            out[last] = shortest
            out.update({k: shortest for k in full if k != shortest})
    return out


def _best_spelling(spellings: Counter[str]) -> str:
    return max(spellings.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))[0]


def _vote_where(reports: Sequence[Article], weights: dict[str, float]) -> Place | None:
    votes: Counter[str] = Counter()
    place_of: dict[str, Place] = {}
    for a in reports:
        where = a.facets.where
        if where is not None:
            key = where.id or where.name
            votes[key] += weights[a.id]
            place_of.setdefault(key, where)
    if not votes:
        return None
    best = min(votes, key=lambda k: (-votes[k], k))
    box = place_of[best]
    gaz = gazetteer()
    if gaz.kinds.get(gaz.lookup(box.name) or "") in ("country", "region", "area"):
        inside = [
            k for k in votes
            if k != best and place_of[k].country == box.country and box.country is not None
            and gaz.kinds.get(gaz.lookup(place_of[k].name) or "") == "city"
            and votes[k] >= SPECIFIC_SHARE * votes[best]
        ]
        if inside:
            best = min(inside, key=lambda k: (-votes[k], k))
    return place_of[best]


def _headline(
    reports: Sequence[Article], weights: dict[str, float],
    who: tuple[Actor, ...], where: Place | None, when: date | None,
) -> str:
    names = {actor_key(a.name) for a in who}
    candidates = [a for a in reports if weights[a.id] == 1.0 and a.title] or [
        a for a in reports if a.title] or list(reports)

    def agreement(a: Article) -> float:
        f = a.facets
        score = len(names & {actor_key(x.name) for x in f.who}) / max(1, len(names))
        score += 1.0 if where is not None and f.where == where else 0.0
        score += 1.0 if when is not None and f.event_date == when else 0.0
        return score

    best = max(range(len(candidates)), key=lambda i: (agreement(candidates[i]), -i))
    return candidates[best].title
