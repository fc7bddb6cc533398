"""What an entry says happened, read from its words: the kinds of action it reports
(a strike, a production, a deployment, an appointment...), the one its headline
leads with, and whether it is a roundup of several events. Pure.

Two reports of one event lead with the same kind of action, or at least mention
each other's: "MBDA to double Storm Shadow production" and "Storm Shadow missiles
hit an airfield" name the same weapon, but one reports a production and the
other a strike. The kinds are event types, not names: they hold for news never
seen. Read on the English pivot when there is one, else in the entry's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.matching.text import LANGUAGES, tokenize

# Kind of action -> per language, words that report it: "word*" is a prefix,
# "two words" a phrase, anything else a whole word (normalised: no accents, ё as е).
ACTIONS: dict[str, dict[str, str]] = {
    "attack": {
        "en": "strike* struck hit hits attack* fires fired shell* bomb* shot downed intercept* "
              "target* explosion* blast* raid* barrage airstrike* shooting* gunfire gunman "
              "gunmen opened_fire stabb*",
        "fr": "frapp* attaqu* attaque* tir tirs tire tirent tiree* bombard* abattu* intercept* "
              "vise visent visee* cible* explosion* raid* bombe* fusillade* tuerie* attentat*",
        "ru": "удар* атак* атаков* обстрел* сбит* сбил* сбива* перехват* обломк* поражен* "
              "бомб* взрыв* стрельб* перестрел* теракт*",
    },
    "produce": {
        "en": "produc* manufactur* output serial series",
        "fr": "produc* fabric* cadence* serie",
        "ru": "производ* выпуск* серийн* серию",
    },
    "deploy": {
        "en": "deploy* stationed duty",
        "fr": "deploi* deploy* stationn*",
        "ru": "размест* дежурств* разверн*",
    },
    "supply": {
        "en": "deliver* supply supplies supplied ship ships shipped shipment* send* sent "
              "transfer* package* aid batch provide* allocate*",
        "fr": "livr* fourni* fournir envoi* envoy* lot aide",
        "ru": "постав* передаст* передат* передач* пакет* помощ* отправ* выдел*",
    },
    "permit": {
        "en": "allow* approv* authoris* authoriz* permission* permit* lets lifted lifting",
        "fr": "autoris* leve levee levent",
        "ru": "разреш* снял* снятие",
    },
    "react": {
        "en": "warn* threat* condemn* retaliat* respond* response* accus* protest* reject* "
              "denounc* dismisses",
        "fr": "menac* condamn* denonc* accus* riposte* protest* rejett* repond* avert*",
        "ru": "пригроз* угроз* осуд* ответ* обвин* протест* отверг* предупред*",
    },
    "oust": {
        "en": "dismiss dismissed dismisses sack* resign* oust* fired",
        "fr": "limog* demission* revoqu*",
        "ru": "уволи* уволь* отставк* отстран*",
    },
    "appoint": {
        "en": "appoint* names named picks picked chose chooses nominat*",
        "fr": "nomm* nomination* choisi*",
        "ru": "назнач* выбрал*",
    },
    "handover": {
        "en": "handover* inaugurat* sworn ceremony took_office takes_office takes_over "
              "took_over",
        "fr": "passation* ceremonie* investi*",
        "ru": "полномоч* церемон* вступил* инаугур*",
    },
    "trial": {
        "en": "trial* appeal* court* courthouse verdict* convict* sentenc* acquit*",
        "fr": "proces appel cour verdict* condamnation* palais_de justice",
        "ru": "суд* процесс* апелляц* приговор*",
    },
    "dissolve": {
        "en": "dissol* snap",
        "fr": "dissolution* dissoudre anticipe*",
        "ru": "распуст* роспуск* досрочн*",
    },
    "candidacy": {
        "en": "term candida* reelect* re_elect*",
        "fr": "mandat* candidat*",
        "ru": "срок* баллотир* кандидат*",
    },
    "vote": {
        "en": "vote* voted ballot* referendum*",
        "fr": "vote* scrutin* referendum*",
        "ru": "голосов* референдум*",
    },
    "purchase": {
        "en": "buy buys buying bought purchas* contract* deal",
        "fr": "achet* achat* achete* command* contrat*",
        "ru": "закуп* купит* купил* контракт* заказ*",
    },
    "summon": {
        "en": "summon*",
        "fr": "convoqu*",
        "ru": "вызвал* вызван* вызвали",
    },
    "talks": {
        "en": "talk* discuss* meet meets meeting* negotiat* summit*",
        "fr": "discut* discussion* reuni* rencontr* negoci* pourparler* sommet*",
        "ru": "обсуд* обсужд* переговор* встреч* саммит*",
    },
    "decree": {
        "en": "decree* extend* extension*",
        "fr": "decret* prolong*",
        "ru": "указ* продлил* продлен*",
    },
    "release": {
        "en": "release* free frees freed extradit*",
        "fr": "liber* extrad*",
        "ru": "освобод* экстрад*",
    },
    "demand": {
        "en": "urge* demand* calls ask* asks",
        "fr": "reclam* exig* demande*",
        "ru": "потребова* призва* попросил* просит*",
    },
    "blaze": {
        "en": "wildfire* blaze* fire firefight* burn* flames",
        "fr": "incendi* feu feux pompier*",
        "ru": "пожар* огонь огня",
    },
    "storm": {
        "en": "hurricane* cyclone* typhoon* flood* snowstorm* blizzard* tornado*",
        "fr": "tempete* ouragan* cyclone* typhon* inondation* crue* neige*",
        "ru": "шторм* ураган* циклон* тайфун* наводнен* паводк* снегопад*",
    },
    "eruption": {
        "en": "erupt* lava volcan*",
        "fr": "erupt* lave volcan*",
        "ru": "изверж* лава лавы вулкан*",
    },
    "quake": {
        "en": "earthquake* quake* tremor* magnitude",
        "fr": "seisme* secousse* magnitude tremblement*",
        "ru": "землетряс* толчк* магнитуд*",
    },
    "aftershock": {
        "en": "aftershock*",
        "fr": "replique*",
        "ru": "афтершок*",
    },
    "rates": {
        "en": "rate rates cut cuts",
        "fr": "taux",
        "ru": "ставк* ставки",
    },
    "market": {
        "en": "falls slides slid slump* plunge* tumbl* rally rallies soar* low lowest",
        "fr": "recul* chute* plonge*",
        "ru": "опустил* обвал* подешев* подорож*",
    },
    "arrest": {
        "en": "arrest* detained",
        "fr": "interpell* arrete arretes arrestation*",
        "ru": "арест* задержан задержали",
    },
}

# Titles of entries that gather several events (briefings, digests, live pages,
# "what we know"): normalised phrases.
ROUNDUP_PHRASES: dict[str, tuple[str, ...]] = {
    "en": ("briefing", "what we know", "as it happened", "live updates", "live blog",
           "roundup", "round up", "news digest", "things to know", "headlines", "in brief",
           "week in review", "the latest"),
    "fr": ("l essentiel", "ce qu il faut retenir", "en direct", "revue de presse",
           "ce que l on sait", "le point sur", "les infos", "a la une", "en bref"),
    "ru": ("главное", "итоги дня", "дайджест", "что известно", "онлайн", "трансляция",
           "хроника", "обзор", "коротко"),
}
# Headline words that say the event happened once more: a report naming them,
# hours after a story began, reports a new event of the same kind.
RECURRENCE = {
    "en": frozenset("again another second fresh renewed".split()),
    "fr": frozenset("nouveau nouvelle encore deuxieme second seconde".split()),
    "ru": frozenset("вновь снова повторно повторный повторная очередной очередная второй "
                    "вторая".split()),
}
# How much of a summary says what happened: its opening.
LEAD_WORDS = 30


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one entry reports, as far as its words say."""

    head: frozenset[str] = frozenset()  # the kinds of the headline's first action word
    actions: frozenset[str] = frozenset()  # every kind in its title and lead
    roundup: bool = False
    recurrence: bool = False  # "again", "another", "вновь" in the headline


NO_EVIDENCE = Evidence()


def _lexicon(language: str) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]],
                                      dict[tuple[str, str], frozenset[str]], tuple[int, ...]]:
    words: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    phrases: dict[tuple[str, str], set[str]] = {}
    for kind, by_language in ACTIONS.items():
        for item in by_language[language].split():
            if "_" in item:
                first, second = item.split("_", 1)
                phrases.setdefault((first, second.split("_")[0]), set()).add(kind)
            elif item.endswith("*"):
                prefixes.setdefault(item[:-1], set()).add(kind)
            else:
                words.setdefault(item, set()).add(kind)
    lengths = tuple(sorted({len(prefix) for prefix in prefixes}, reverse=True))
    return ({w: frozenset(k) for w, k in words.items()},
            {p: frozenset(k) for p, k in prefixes.items()},
            {p: frozenset(k) for p, k in phrases.items()}, lengths)


_LEXICONS = {language: _lexicon(language) for language in LANGUAGES}


def action_kinds(words: list[str], language: str) -> list[frozenset[str]]:
    """The kinds each word reports (empty for most), in order."""
    exact, prefixes, phrases, lengths = _LEXICONS[language]
    found = []
    for position, word in enumerate(words):
        kinds = exact.get(word, frozenset())
        for length in lengths:
            if len(word) >= length and word[:length] in prefixes:
                kinds = kinds | prefixes[word[:length]]
        following = words[position + 1] if position + 1 < len(words) else ""
        kinds = kinds | phrases.get((word, following), frozenset())
        found.append(kinds)
    return found


def is_roundup(title: str, language: str) -> bool:
    text = " ".join(tokenize(title, language))
    return any(f" {phrase} " in f" {text} " for phrase in ROUNDUP_PHRASES[language])


def read_evidence(title: str, summary: str, language: str,
                  pivot_title: str | None = None, pivot_summary: str | None = None) -> Evidence:
    """The evidence of one entry; read on its English pivot when it has one."""
    if language not in LANGUAGES:
        return Evidence()
    roundup = is_roundup(title, language) or (
        pivot_title is not None and is_roundup(pivot_title, "en"))
    if pivot_title is not None:
        title, summary, language = pivot_title, pivot_summary or "", "en"
    title_words = tokenize(title, language)
    title_kinds = action_kinds(title_words, language)
    lead_kinds = action_kinds(tokenize(summary, language)[:LEAD_WORDS], language)
    head = next((kinds for kinds in title_kinds if kinds), frozenset())
    actions = frozenset().union(*title_kinds, *lead_kinds)
    return Evidence(head, actions, roundup, not RECURRENCE[language].isdisjoint(title_words))


def agreement(a: Evidence, b: Evidence) -> int | None:
    """How many of the two headlines' leading actions the other entry reports
    (0, 1 or 2); None when a headline has no action word: no evidence either way.
    `b` may gather several entries (a story's core: their heads and actions)."""
    if not a.head or not b.head:
        return None
    return bool(a.head & b.actions) + bool(b.head & a.actions)


def gathered(evidence: list[Evidence]) -> Evidence:
    """The evidence of several reports of one event: every headline's leading
    actions and every action reported."""
    return Evidence(frozenset().union(*(e.head for e in evidence)),
                    frozenset().union(*(e.actions for e in evidence)))
