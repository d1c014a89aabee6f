"""Build demosite/corpus.json from the shared development data (dev-time only).

The demo site serves real article texts so that extraction, dedup and clustering meet real
prose. This script copies the few texts the site needs from ../shared (never read at run time),
together with each text's source URL and licence, and plants the structure the end-to-end tests
check: multi-outlet events, a syndicated wire copy, one article reachable at two URLs, and
unrelated single stories. The output is deterministic; re-run it and commit corpus.json:

    .venv/bin/python -m demosite.build_corpus [--data ../shared/data] [--seeds ../shared/seeds]

Only Apache-2.0 sets are used (Giveme5W1H news_cluster, tgcontest pairs) plus the project's two
seed articles; pac_partisan has no licence and is not copied.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"
DEFAULT_SEEDS = HERE.parent.parent / "shared" / "seeds"

OUTLETS = [
    {
        "host": "outlet-a.test",
        "name": "Outlet A",
        "brand": "The Harbour Courier",
        "feed": {"path": "/feed.xml", "format": "rss"},
        "sitemap": "/sitemap_news.xml",
        "sitemap_index": None,
    },
    {
        "host": "outlet-b.test",
        "name": "Outlet B",
        "brand": "Meridian Daily",
        "feed": {"path": "/atom.xml", "format": "atom"},
        "sitemap": "/sitemaps/news-{year}.xml",
        "sitemap_index": "/sitemap_index.xml",
    },
    {
        "host": "outlet-c.test",
        "name": "Outlet C",
        "brand": "Northfield Gazette",
        "feed": {"path": "/rss/latest.rss", "format": "rss"},
        "sitemap": "/sitemap-news.xml",
        "sitemap_index": None,
    },
    {
        "host": "outlet-d.test",
        "name": "Outlet D",
        "brand": "Coastline Review",
        "feed": {"path": "/feeds/all.atom", "format": "atom"},
        "sitemap": "/news_sitemap.xml",
        "sitemap_index": None,
    },
    # Non-English outlets (#27): their reports of an event must join the English ones.
    {
        "host": "outlet-e.test",
        "name": "Outlet E",
        "brand": "Кавказский вестник",
        "language": "ru",
        "feed": {"path": "/rss.xml", "format": "rss"},
        "sitemap": "/sitemap-news.xml",
        "sitemap_index": None,
    },
    {
        "host": "outlet-f.test",
        "name": "Outlet F",
        "brand": "Brüsseler Rundschau",
        "language": "de",
        "feed": {"path": "/feed.atom", "format": "atom"},
        "sitemap": "/news-sitemap.xml",
        "sitemap_index": None,
    },
]

# URL layout per outlet, so that article URLs look different from site to site.
PATH_PATTERNS = {
    "outlet-a.test": "/news/{slug}.html",
    "outlet-b.test": "/{yyyy}/{mm}/{dd}/{slug}/",
    "outlet-c.test": "/story/{slug}",
    "outlet-d.test": "/world/{slug}-{yyyy}{mm}{dd}",
    "outlet-e.test": "/news/{yyyy}/{mm}/{dd}/{slug}",
    "outlet-f.test": "/politik/{slug}.html",
}

G5 = "giveme5w1h"
PAIRS = "tgcontest-en"
SEED = "seed"
OWN = "newsmon"

DATASETS = {
    G5: (
        "Giveme5W1H news_cluster (fhamborg/Giveme5W1H)",
        "Apache-2.0 (repository licence); article text (c) its original publisher",
    ),
    PAIRS: (
        "Telegram Data Clustering annotation pool en_train_pool.tsv (IlyaGusev/tgcontest)",
        "Apache-2.0 (repository licence); article text (c) its original publisher",
    ),
    SEED: (
        "newsmon seed articles (shared/seeds)",
        "project seed text, provided for newsmon development; original publisher not recorded",
    ),
    OWN: (
        "written for the newsmon demo (demosite/build_corpus.py, DEMO_TEXTS)",
        "Apache-2.0 (newsmon's licence); fictional outlets, reports written for the demo",
    ),
}

# Reports written for the demo (#27), so the non-English outlets carry licence-clean texts:
# a Russian and a German report of the seed event (the Brussels talks of 15 December 2021),
# and a Russian report of another summit of the same leaders (Sochi, 26 November 2021), which
# must stay an event apart. Keyed like the other sources; slugs are given (Cyrillic titles
# have no ASCII words to slug).
DEMO_TEXTS: dict[str, dict] = {
    "ru-brussels": {
        "slug": "pashinyan-i-aliev-proveli-peregovory-v-bryussele",
        "text": (
            "Премьер-министр Армении Никол Пашинян и президент Азербайджана Ильхам Алиев в "
            "ночь на 15 декабря провели в Брюсселе трёхсторонние переговоры при посредничестве "
            "председателя Европейского совета Шарля Мишеля. Встреча прошла на полях саммита "
            "«Восточного партнёрства» и продлилась более четырёх часов.\n"
            "По словам Мишеля, стороны обсудили пути снижения напряжённости на "
            "армяно-азербайджанской границе и подготовку к делимитации и демаркации границы. "
            "Лидеры согласились, что для создания благоприятной атмосферы нужны «дальнейшие "
            "ощутимые шаги».\n"
            "Мишель заверил обоих лидеров, что Евросоюз готов помогать Армении и Азербайджану "
            "в преодолении конфликта и восстановлении доверия в регионе.\n"
            "Осенью 2020 года Армения и Азербайджан шесть недель воевали за Нагорный Карабах. "
            "Конфликт унёс более 6500 жизней и завершился перемирием при посредничестве России."
        ),
    },
    "de-brussels": {
        "slug": "paschinjan-und-alijew-sprechen-in-bruessel",
        "text": (
            "Der armenische Regierungschef Nikol Paschinjan und der aserbaidschanische "
            "Präsident Ilham Alijew haben sich am Rande des Gipfels der Östlichen "
            "Partnerschaft in Brüssel getroffen. Das Gespräch unter Vermittlung von "
            "EU-Ratspräsident Charles Michel dauerte bis in die frühen Morgenstunden des "
            "15. Dezember.\n"
            "Michel sprach nach dem Treffen von einem „bedeutenden“ Austausch. Beide Seiten "
            "hätten vereinbart, weitere konkrete Schritte zu unternehmen, um die Spannungen an "
            "der gemeinsamen Grenze abzubauen und Gespräche über den Grenzverlauf "
            "vorzubereiten.\n"
            "Im Herbst 2020 hatten Armenien und Aserbaidschan sechs Wochen lang um die Region "
            "Bergkarabach gekämpft. Mehr als 6.500 Menschen kamen ums Leben, eine von Russland "
            "vermittelte Waffenruhe beendete die Kämpfe.\n"
            "Die Europäische Union sagte zu, beide Länder bei der Überwindung des Konflikts zu "
            "unterstützen."
        ),
    },
    "ru-sochi": {
        "slug": "putin-pashinyan-i-aliev-vstretilis-v-sochi",
        "text": (
            "Президент России Владимир Путин 26 ноября провёл в Сочи трёхстороннюю встречу с "
            "премьер-министром Армении Николом Пашиняном и президентом Азербайджана Ильхамом "
            "Алиевым. Переговоры в резиденции «Бочаров ручей» продолжались около трёх часов.\n"
            "По итогам встречи стороны приняли совместное заявление. Лидеры договорились "
            "создать до конца года механизм делимитации и демаркации армяно-азербайджанской "
            "границы при консультативной помощи России.\n"
            "Путин назвал встречу полезной и отметил, что стороны также обсудили "
            "восстановление транспортных коммуникаций в регионе. Это первая встреча трёх "
            "лидеров после январских переговоров в Москве."
        ),
    },
}

# The planted structure. Each row: where the text comes from, which outlet carries it, and what
# it stands for. `key` is a Giveme5W1H id prefix, "<pair row>:<first|second>" for the pairs pool,
# or a seed file name. `title`/`published` override the source where it has none (or for the
# edited wire copy). Authors are the source's byline when it has a clean one, else a desk byline
# of the fictional outlet (the source's own author list is often noise such as 'Written By').
# fmt: off
SELECTION: list[dict] = [
    # Event 1: the seed pair (core case): preview and report of the Brussels talks.
    dict(source=SEED, key="summit_preview.txt", outlet="outlet-a.test", kind="report",
         event="armenia_azerbaijan_brussels_talks",
         title="EU official outlines goals of Pashinian-Aliyev meeting set for Brussels",
         author="Lena Hartmann", published="2021-11-20T10:15:00+01:00"),
    dict(source=SEED, key="summit_report.txt", outlet="outlet-b.test", kind="report",
         event="armenia_azerbaijan_brussels_talks",
         title="Pashinian and Aliyev hold 'significant' talks in Brussels, Michel says",
         author="Tom Adair", published="2021-12-15T11:40:00+00:00"),
    # The same talks reported in Russian and in German (texts written for the demo, #27).
    dict(source=OWN, key="ru-brussels", outlet="outlet-e.test", kind="report",
         event="armenia_azerbaijan_brussels_talks",
         title="Пашинян и Алиев провели переговоры в Брюсселе при посредничестве Мишеля",
         author="Анна Саркисова", published="2021-12-15T09:30:00+03:00"),
    dict(source=OWN, key="de-brussels", outlet="outlet-f.test", kind="report",
         event="armenia_azerbaijan_brussels_talks",
         title="Paschinjan und Alijew sprechen in Brüssel über Entspannung im Südkaukasus",
         author="Jonas Weber", published="2021-12-15T13:05:00+01:00"),
    # Another summit of the same leaders (Sochi, another city, another day): its own event.
    dict(source=OWN, key="ru-sochi", outlet="outlet-e.test", kind="single",
         title="Путин, Пашинян и Алиев провели трёхстороннюю встречу в Сочи",
         author="Анна Саркисова", published="2021-11-26T18:20:00+03:00"),
    # Event 2: 'smoke rings' in the ocean (three outlets, three texts).
    dict(source=G5, key="db7db41f7acb", outlet="outlet-a.test", kind="report",
         event="ocean_smoke_rings", author="Mark Prigg", feed_tracking=True,
         title="The 'hyperloop of the sea': smoke rings spotted in the ocean from space"),
    dict(source=G5, key="572f3fd23d5b", outlet="outlet-c.test", kind="report",
         event="ocean_smoke_rings", author="Science desk",
         title="'Smoke rings' spotted in the ocean from space"),
    dict(source=G5, key="16e734e88dfa", outlet="outlet-d.test", kind="report",
         event="ocean_smoke_rings", author="Coastline Review staff"),
    # Event 3: the 'Nigerian prince' scam arrest in Louisiana.
    dict(source=G5, key="22e79f034831", outlet="outlet-b.test", kind="report",
         event="nigerian_prince_scam_arrest", author="Meridian Daily reporter"),
    dict(source=G5, key="648223309673", outlet="outlet-c.test", kind="report",
         event="nigerian_prince_scam_arrest", author="Charles Ventura"),
    dict(source=G5, key="8eacba4745f5", outlet="outlet-d.test", kind="report",
         event="nigerian_prince_scam_arrest", author="Coastline Review staff",
         title="'Nigerian prince' finally arrested: 67-year-old behind hundreds of scam emails"),
    # Event 4: Mohammed Morsi sentenced for insulting the judiciary.
    dict(source=G5, key="181393e15a9f", outlet="outlet-a.test", kind="report",
         event="morsi_sentenced_insulting_judiciary", author="Harbour Courier world desk",
         title="Egypt's Mohammed Morsi sentenced to 3 years in prison for insulting judiciary"),
    dict(source=G5, key="40d513a79bad", outlet="outlet-d.test", kind="report",
         event="morsi_sentenced_insulting_judiciary", author="Agence France-Presse"),
    # Event 5: a same-story pair from the tgcontest pool (GOLDEN:quality OK).
    dict(source=PAIRS, key="17:first", outlet="outlet-b.test", kind="report",
         event="apple_store_employee_fired_photo", author="Meridian Daily tech desk",
         published="2019-11-14T16:05:00+00:00"),
    dict(source=PAIRS, key="17:second", outlet="outlet-d.test", kind="report",
         event="apple_store_employee_fired_photo", author="Coastline Review tech desk",
         published="2019-11-15T08:30:00+00:00"),
    # Wire story: one AP text carried by two outlets; the later copy has an edited headline
    # and one trivially edited sentence (see WIRE_EDIT).
    dict(source=G5, key="d184a1e408eb", outlet="outlet-c.test", kind="wire",
         event="wire_284_billion_electric_bill", author="The Associated Press",
         title="Woman stunned to find electric bill listed as $284 billion"),
    dict(source=G5, key="d184a1e408eb", outlet="outlet-a.test", kind="wire",
         event="wire_284_billion_electric_bill", author="The Associated Press",
         title="Pennsylvania woman stunned to find electric bill of $284 billion",
         published="2017-12-26T13:20:00+00:00", copy=True),
    # Unrelated single stories (tgcontest pairs labelled BAD: different stories).
    dict(source=PAIRS, key="0:first", outlet="outlet-a.test", kind="single",
         author="Harbour Courier business desk", published="2019-11-08T07:45:00+02:00"),
    dict(source=PAIRS, key="0:second", outlet="outlet-b.test", kind="single",
         author="Lucas Nolan", published="2019-11-08T15:20:00+00:00",
         title="Report: Amazon Ring doorbells exposed home Wi-Fi passwords to hackers"),
    dict(source=PAIRS, key="5:second", outlet="outlet-c.test", kind="single",
         author="Reuters", published="2019-11-13T06:10:00+00:00"),
    dict(source=PAIRS, key="15:first", outlet="outlet-d.test", kind="single",
         author="Reuters", published="2019-11-07T22:35:00+00:00"),
    dict(source=PAIRS, key="25:second", outlet="outlet-b.test", kind="single",
         author="Meridian Daily games desk", published="2019-11-11T12:00:00+00:00"),
]

# The one trivially edited sentence of the wire copy: (old, new) in its first paragraph.
WIRE_EDIT = ("was stunned at the amount", "was shocked by the amount")

# Paragraphs that are page furniture captured by the source crawl, not article text.
JUNK_PARAGRAPHS = {"read more", "advertisement", "advertisements", "scroll down for video", "___"}


def slugify(title: str) -> str:
    """Lower-case ASCII words joined by hyphens, at most 8 words."""
    plain = title.replace("$", "").replace("'", "").replace("\u2019", "")
    parts = re.findall(r"[a-z0-9]+", plain.lower())
    return "-".join(parts[:8])


def split_paragraphs(text: str, sentences_per_paragraph: int = 3) -> list[str]:
    """Paragraphs from newline-separated text, or sentence groups when the text is one line."""
    lines = [ln.strip() for ln in text.split("\n")]
    paragraphs = [ln for ln in lines if ln and ln.lower() not in JUNK_PARAGRAPHS]
    if len(paragraphs) > 1:
        return paragraphs
    sentences = re.split(r"(?<=[.!?\u201d\"])\s+(?=[A-Z\u201c\"])", text.strip())
    return [
        " ".join(sentences[i : i + sentences_per_paragraph])
        for i in range(0, len(sentences), sentences_per_paragraph)
    ]


def _iso(value: str) -> str:
    """ISO 8601 with timezone; naive source dates are taken as UTC."""
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat()


def load_sources(data: Path, seeds: Path) -> dict[tuple[str, str], dict]:
    """Every selected source text as {title, text, url, published} keyed by (source, key)."""
    wanted = {(row["source"], row["key"]) for row in SELECTION}
    found: dict[tuple[str, str], dict] = {}
    with (data / "clusters" / "giveme5w1h" / "articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            for source, key in wanted:
                if source == G5 and rec["id"].startswith(key):
                    found[(G5, key)] = {
                        "title": rec["title"],
                        "text": rec["text"],
                        "url": rec["url"],
                        "published": rec["date_publish"],
                    }
    csv.field_size_limit(1 << 30)
    with (data / "pairs" / "en_train_pool.tsv").open(encoding="utf-8", newline="") as fh:
        pool = list(csv.DictReader(fh, delimiter="\t"))
    for source, key in wanted:
        if source == PAIRS:
            row_no, side = key.split(":")
            row = pool[int(row_no)]
            found[(PAIRS, key)] = {
                "title": row[f"INPUT:{side}_title"],
                "text": row[f"INPUT:{side}_text"],
                "url": row[f"INPUT:{side}_url"],
                "published": None,
            }
        elif source == OWN:
            found[(OWN, key)] = {"title": None, "text": DEMO_TEXTS[key]["text"], "url": None,
                                 "published": None}
        elif source == SEED:
            found[(SEED, key)] = {
                "title": None,
                "text": (seeds / key).read_text(encoding="utf-8"),
                "url": None,
                "published": None,
            }
    missing = wanted - found.keys()
    if missing:
        raise SystemExit(f"source texts not found: {sorted(missing)}")
    return found


def build(data: Path = DEFAULT_DATA, seeds: Path = DEFAULT_SEEDS) -> dict:
    """The whole corpus as a JSON-ready dict (outlets and articles)."""
    sources = load_sources(data, seeds)
    articles: list[dict] = []
    originals: dict[str, str] = {}  # wire event -> slug of the original copy
    for row in SELECTION:
        src = sources[(row["source"], row["key"])]
        title = row.get("title") or src["title"]
        published = _iso(row.get("published") or src["published"])
        paragraphs = split_paragraphs(src["text"])
        if row.get("copy"):
            old, new = WIRE_EDIT
            if old not in paragraphs[0]:
                raise SystemExit(f"wire edit {old!r} not found in {row['key']}")
            paragraphs[0] = paragraphs[0].replace(old, new)
        slug = DEMO_TEXTS[row["key"]]["slug"] if row["source"] == OWN else slugify(title)
        dt = datetime.fromisoformat(published)
        path = PATH_PATTERNS[row["outlet"]].format(
            slug=slug, yyyy=f"{dt.year:04d}", mm=f"{dt.month:02d}", dd=f"{dt.day:02d}"
        )
        dataset, licence = DATASETS[row["source"]]
        article = {
            "slug": slug,
            "outlet": row["outlet"],
            "path": path,
            "title": title,
            "author": row["author"],
            "published": published,
            "paragraphs": paragraphs,
            "planted_event": row["event"] if row["kind"] != "single" else None,
            "kind": row["kind"],
            "copy_of": None,
            "feed_tracking": bool(row.get("feed_tracking")),
            "attribution": {"source_url": src["url"], "dataset": dataset, "licence": licence},
        }
        if row["kind"] == "wire":
            if row.get("copy"):
                article["copy_of"] = originals[row["event"]]
            else:
                originals[row["event"]] = slug
        articles.append(article)
    _check(articles)
    articles.sort(key=lambda a: (a["outlet"], a["published"], a["slug"]))
    return {
        "about": (
            "Corpus of the newsmon offline demo site, built by demosite/build_corpus.py from "
            "real articles; each article names its source URL, data set and licence."
        ),
        "outlets": OUTLETS,
        "articles": articles,
    }


def _check(articles: list[dict]) -> None:
    """Fail the build when the planted structure is not what the tests rely on."""
    slugs = [a["slug"] for a in articles]
    if len(set(slugs)) != len(slugs):
        raise SystemExit("duplicate slugs")
    by_event: dict[str, list[dict]] = {}
    for a in articles:
        if a["planted_event"]:
            by_event.setdefault(a["planted_event"], []).append(a)
        if any(len(p) == 0 for p in a["paragraphs"]) or len(a["paragraphs"]) < 2:
            raise SystemExit(f"{a['slug']}: too few paragraphs")
    for label, members in by_event.items():
        outlets = [m["outlet"] for m in members]
        if len(set(outlets)) != len(outlets) or not 2 <= len(members) <= 4:
            raise SystemExit(f"event {label}: needs 2-4 articles from different outlets")
    for a in articles:
        if a["copy_of"]:
            original = next(o for o in articles if o["slug"] == a["copy_of"])
            if datetime.fromisoformat(original["published"]) >= datetime.fromisoformat(
                a["published"]
            ):
                raise SystemExit("the wire original must be published before its copy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument("--out", type=Path, default=HERE / "corpus.json")
    args = parser.parse_args()
    corpus = build(args.data, args.seeds)
    text = json.dumps(corpus, ensure_ascii=False, indent=1) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(corpus['articles'])} articles, {len(text.encode())} bytes)")


if __name__ == "__main__":
    main()
