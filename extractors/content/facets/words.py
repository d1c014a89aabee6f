"""Word lists the facets read names with: general knowledge of how news writes names.

Each list says what a class of words *is* (titles cue a person, organisation heads end an
organisation's name, media heads end a publication's), never which article it was read
from. The weights of the signals built on them are fitted (see ranking.py).
"""

from __future__ import annotations

import re

from extractors.content.text import STOPWORDS


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Capitalised words that are page furniture, pronouns, sentence openers or abbreviations of
# common nouns ("CCTV", "ДТП": road accident), never names.
NOT_NAMES = _wordset(
    """photo photos video videos image images enlarge caption toggle advertisement read more
    continue reading email share click follow subscribe update updated getty via ap reuters
    afp file here there this that these those it he she they we i you his her their our its
    what when where why how who which while yes no ok okay mr mrs ms dr sir madam please
    tv eve hide sign replay watch watched related play playing live breaking exclusive opinion
    analysis comments comment loading cctv dna gps atm sms pdf suv copyright credit credits
    invalid embed skip ad ads advert messages message newsletter newsletters login log menu
    search trending popular gallery slideshow audio podcast transcript cookies cookie privacy
    terms subscription subscribers print pic twitter facebook instagram youtube whatsapp
    linkedin tiktok reddit lead customer customers story stories topics topic section
    view thank thanks dozens hundreds thousands millions scores report reports
    дтп сми чп вуз жкх смс"""
)
# Sentence openers glued to a name when captions lose their full stop; never a name's end.
GLUED_OPENERS = _wordset(
    """then also there here now so too again still yet however meanwhile instead but and or
    if when while after before since as in on at for with by from to"""
)
# People named by their role: "EU official", "Red Bull boss" (the name is an attribute).
ROLE_NOUNS = _wordset(
    """official officials boss bosses chief leader leaders spokesman spokeswoman spokesperson
    envoy diplomat diplomats minister ministers aide aides source sources member members
    staff worker workers soldier soldiers troops fighter fighters police officer officers
    investigators deputies detectives authorities"""
)
# Last words of named sites: "Wrigley Field", "Tahrir Square", "Trump Tower".
VENUE_HEADS = _wordset(
    """field stadium arena circuit track raceway speedway square airport station hospital
    palace hall bridge hotel church cathedral mosque temple museum prison embassy consulate
    park gardens tower plaza mall bar shop restaurant motel inn apartments complex market
    nightclub lounge pub cafe diner casino"""
)
# Words of administrative units: a name ending in one that the gazetteer does not know is
# no place newsmon can tell ("Harbour Town" is as often a club).
ADMIN_WORDS = _wordset("province county district region village town oblast prefecture city")
# Last words of the names of towns and parts of towns: "Penn Hills", "Dearborn Heights".
SETTLEMENT_HEADS = _wordset(
    """hills heights ward township village beach springs grove creek point park estates
    acres gardens manor terrace landing crossing junction ridge woods side"""
)
# First words of place names: "Fort Riley", "Camp Lejeune", "Lake Tahoe", "Mount Vernon".
PLACE_OPENERS = _wordset("fort ft camp lake mount mt port cape isle")
# Street words anywhere in a name make it an address: "N Street Southwest".
STREET_WORDS = _wordset(
    "street st avenue ave road rd boulevard blvd drive lane highway parkway expressway way")
# First words of the parts of a place: "East Nashville", "South Side", "Middle Tennessee".
DIRECTIONS = _wordset(
    """north south east west northeast northwest southeast southwest northern southern
    eastern western central downtown midtown uptown upper lower middle inner outer greater"""
)
# Feasts and seasons: capitalised, never actors ("Christmas", "Ramadan").
HOLIDAYS = _wordset(
    """christmas easter ramadan eid thanksgiving halloween diwali hanukkah passover
    new year's xmas advent lent spring summer autumn winter"""
)
# Last words of event names: "Brazil Grand Prix", "World Series", "Paris Summit".
EVENT_HEADS = _wordset(
    """prix series cup championship championships olympics olympiad games open tournament
    final finals election elections summit festival awards marathon expo"""
)
# Last words of geographic features: "Tasman Sea", "South Atlantic" are places, not actors.
FEATURE_HEADS = _wordset(
    """sea seas ocean atlantic pacific arctic river lake lakes bay gulf strait straits island
    islands isles mountain mountains mount mt range valley desert peninsula coast canal
    channel basin plain plains plateau glacier volcano falls reef cape harbour harbor
    province county district region village town oblast prefecture parish borough township
    street avenue road boulevard drive lane highway interstate block parkway expressway
    freeway turnpike"""
)
# Adjectives and directions: part of names ("North Korea"), never a name alone.
ADJECTIVES = _wordset(
    """north south east west islamic islamist jewish christian muslim arab arabic african
    european asian western eastern northern southern korean soviet orthodox catholic sunni
    shiite shia hispanic latino black white god internet web online"""
)
# Title words: they cue the name that follows and are not part of it.
TITLES = _wordset(
    """president vice prime minister ministers chancellor premier king queen prince princess
    pope mallam alhaji sen senator rep representative gov governor mayor secretary judge
    justice ambassador
    spokesman spokeswoman spokesperson chairman chairwoman chief ceo director mr mrs ms dr
    prof professor sir lord lady dame rabbi imam bishop archbishop cardinal father sheikh
    leader commander detective sgt sergeant capt captain lt lieutenant col colonel gen
    adm admiral deputy foreign defense defence interior finance state envoy emir general-secretary
    secretary-general officer inspector constable coach manager striker midfielder
    quarterback qb rapper singer actor actress star founder head counsel attorney
    congressman congresswoman former late ex republican democrat democratic conservative
    labour tory liberal socialist general activist lawyer journalist reporter analyst
    economist author writer scientist president-elect vice-president governor-elect
    mayor-elect prime-minister sheriff trooper cpl corporal agent investigator patrolman
    coroner examiner prosecutor da superintendent marshal ofc det
    президент премьер-министр премьер министр губернатор мэр глава председатель депутат
    сенатор посол спикер генсек патриарх канцлер вице-премьер замминистра бывший экс-президент"""
)
# Titles of people who speak for the authorities or the press, rarely the story's subject.
OFFICIAL_TITLES = _wordset(
    """spokesman spokeswoman spokesperson sheriff detective sgt sergeant capt captain lt
    lieutenant officer inspector constable trooper cpl corporal agent investigator patrolman
    coroner examiner prosecutor da superintendent marshal ofc det chief deputy reporter
    analyst journalist economist"""
)
# Last words of organisation names.
ORG_HEADS = _wordset(
    """ministry ministries council union inc corp corporation company co ltd llc plc group
    party bank agency department office committee commission court parliament assembly
    congress senate police army navy force forces guard guards university institute
    association federation foundation organization organisation brigade service services
    authority bureau administration board club airlines air airways network fund trust port
    temple church hospital school center centre league alliance movement front cabinet
    government republic kingdom nations tribunal agentur international industries holdings
    motors systems technologies labs studios records entertainment media partnership
    electric dynamics mills dept chiefs staff patrol sheriff's academy college
    management capital partners ventures energy communications laboratories laboratory
    store stores team battalion command enterprises metro swat unit division precinct"""
)
# Last words of publications: "The New York Times", "Times-Picayune" (never an actor).
# Organisation words naming a place's own authority ("Columbus Police Department", "Erie
# County Sheriff's Office", "Tampa City Council"): that place is where the authority acts.
AUTHORITY_HEADS = _wordset(
    """police sheriff sheriff's pd fire council court mayor township city county municipal
    prosecutor's prosecutor coroner"""
)
MEDIA_HEADS = _wordset(
    """times post news journal herald tribune press telegraph daily gazette picayune courier
    chronicle observer examiner star-telegram inquirer register sentinel bulletin dispatch
    reporter review weekly magazine radio tv television channel"""
)
# "Russia-brokered", "California-based": the capitalised part is a place or actor on its own.
HYPHEN_SUFFIXES = _wordset(
    """based led backed brokered mediated era style born owned made bound controlled run
    linked sponsored related wide friendly speaking funded allied dominated held occupied
    registered listed level class type like language area region quarter"""
)
NAME_PARTICLES = _wordset("of the de du da del della van von der den la le bin ibn al el")
ABBREVIATIONS = _wordset(
    """mr mrs ms dr st jr sr gen col lt sgt capt gov sen rep prof inc corp co ltd vs no
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft u.s u.k u.n e.g i.e det ofc cpl
    ala ariz ark calif colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo
    mont neb nebr nev okla ore pa penn tenn tex vt va wash wis wyo"""
)
CONTRACTIONS = ("'ve", "’ve", "'ll", "’ll", "'m", "’m", "'re", "’re", "'d", "’d")
AMBIGUOUS_MONTHS = frozenset({"may", "march", "april", "june", "august", "mar", "jun", "jul"})

# Unnamed people as a subject: "A gunman", "Dozens of rescuers", "Three people".
PERSON_NOUNS = _wordset(
    """gunman gunmen man men woman women boy boys girl girls child children teenager
    teenagers teen teens toddler baby people person bomber bombers attacker attackers
    assailant assailants suspect suspects driver drivers pilot pilots rescuer rescuers
    militant militants insurgents guerrillas guerrilla terrorists terrorist rebels fighters
    soldier soldiers troops protester protesters protestors demonstrators student students
    passenger passengers victim victims resident residents worker workers fan fans
    firefighters migrants refugees hostages prisoner prisoners inmates miners civilians
    shooter shooters hacker hackers climber climbers tourist tourists pupils patient patients
    volunteers crowd crowds family families couple mother father"""
)


def common_word(word: str, lower_vocab: set[str]) -> bool:
    """A capitalised word that is an ordinary word here: used lower-case, or a stopword."""
    low = word.casefold()
    return low in lower_vocab or low in STOPWORDS or low.endswith(("ly", "ing"))


# Kin before a name: "his father, Jos", "wife Victoria": a person's first name follows.
KIN_BEFORE = re.compile(
    r"\b(?:father|mother|dad|mum|mom|son|daughter|brother|sister|wife|husband|uncle|aunt"
    r"|cousin|nephew|niece|grandfather|grandmother|grandson|granddaughter|girlfriend"
    r"|boyfriend|fianc[ée]e?)\s*,?\s+$", re.IGNORECASE)
