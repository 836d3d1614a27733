"""Find named-entity mentions -- capitalised names and acronyms -- with a coarse label.

``find_entities(text)`` returns dicts ``{"text", "start", "end", "label"}`` in text order
with ``text[start:end] == item["text"]``; ``label`` is ``"PERSON"``, ``"ORG"``, ``"PLACE"``
or ``"OTHER"``.

A mention is a run of capitalised words or acronyms (``"Ain Al-Asad"``, ``"UNAMI"``,
``"U.S."``), joined across ``of``/``for`` when the word before is an organisation or title
word (``"UN Assistance Mission for Iraq"``, ``"Bank of England"``), across ``and``/``&`` when
the run ends in one (``"Eli Lilly and Company"``), and across name particles
(``"bin"``, ``"van"``, ``"de"``).  Leading titles and nationality words are cues, not part
of the name: ``"Iraqi Foreign Minister Fuad Hussein"`` gives PERSON ``"Fuad Hussein"``.
A capitalised word that only starts a sentence (``"The"``, ``"However"``, ``"Speaking"``) is
not a mention.  Labels come from cues in this order: organisation words and acronyms ->
ORG, a built-in gazetteer of countries, regions and major cities -> PLACE, titles, speech
verbs, appositives and earlier person mentions -> PERSON, otherwise OTHER.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = [
    "COMMON_WORDS",
    "DEMONYMS",
    "SPEECH_VERBS",
    "TITLE_HEADS",
    "TITLE_WORDS",
    "find_entities",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _names(text: str) -> frozenset[str]:
    """Lower-cased gazetteer entries, one per line or separated by ``|``."""
    return frozenset(n.strip().lower() for n in re.split(r"[|\n]", text) if n.strip())


# Verbs that introduce what someone said, in the forms news writing uses.
SPEECH_VERBS = _words(
    """
    said says say told tells stated states added adds noted notes stressed stresses
    emphasized emphasised emphasizes emphasises explained explains argued argues claimed
    claims insisted insists warned warns announced announces declared declares observed
    observes remarked remarks asserted asserts wrote writes tweeted tweets described
    describes confirmed confirms highlighted highlights underlined underscored reiterated
    reiterates maintained maintains suggested suggests acknowledged admitted denied denies
    replied responded commented continued concluded cautioned urged urges predicted
    believes believed thinks thought estimated estimates reported reports recalled
    pointed contended countered echoed affirmed welcomed contrasted accused blamed
    praised criticized criticised condemned rejected dismissed vowed pledged promised
    promoted advises advised recommends recommended determined found
    """
)
# Job titles and honorifics: before a name they mark a person and are not part of the name.
TITLE_WORDS = _words(
    """
    Mr Mrs Ms Mx Dr Prof Professor Sir Dame Lord Lady President Vice Premier Minister
    Secretary Chancellor Governor Gov Senator Sen Rep Representative Congressman
    Congresswoman Mayor King Queen Prince Princess Sheikh Emir Ayatollah Pope Cardinal
    Bishop Rabbi Imam Judge Justice Chief Director Director-General Ambassador Envoy
    Spokesman Spokeswoman Spokesperson Deputy General Gen Colonel Col Lieutenant Lt Major
    Maj Captain Capt Sergeant Sgt Commander Admiral Marshal Chairman Chairwoman Chair CEO
    Speaker Leader Foreign Prime Defence Defense Interior Finance Health Economy Trade
    Justice Energy Education Security Senior Supreme Acting Former First Executive
    Minister-President Secretary-General Commissioner Inspector Officer Agent Detective
    Coach Host Anchor Author Epidemiologist Economist Analyst
    """
)
# The title nouns proper (not modifiers such as "Foreign"): the name follows the last one.
TITLE_HEADS = _words(
    """
    Mr Mrs Ms Mx Dr Prof Professor Sir Dame Lord Lady President Premier Minister Secretary
    Chancellor Governor Gov Senator Sen Rep Representative Congressman Congresswoman Mayor
    King Queen Prince Princess Sheikh Emir Ayatollah Pope Cardinal Bishop Rabbi Imam Judge
    Justice Director Director-General Ambassador Envoy Spokesman Spokeswoman Spokesperson
    General Gen Colonel Col Lieutenant Lt Major Maj Captain Capt Sergeant Sgt Commander
    Admiral Marshal Chairman Chairwoman CEO Speaker Leader Minister-President
    Secretary-General Commissioner Inspector Officer Agent Detective Coach Host Anchor
    Epidemiologist Economist Analyst
    """
)
_ORG_WORDS = _words(
    """
    Inc Inc. Corp Corp. Corporation Ltd Ltd. LLC Plc PLC Co Co. Company Companies Group
    Holdings Ministry Ministries Department University College School Institute Institution
    Academy Party Council Mission Agency Agencies Organization Organisation Association
    Union Federation League Committee Commission Board Authority Administration Office
    Bureau Service Services Centre Center Centers Foundation Fund Trust Bank Court Tribunal
    Parliament Assembly Congress Senate House Cabinet Government Army Navy Force Forces
    Guard Guards Police Corps Brigade Brigades Movement Front Alliance Coalition Network
    Times News Post Journal Press Herald Tribune Telegraph Guardian Gazette Review Magazine
    Television Radio Broadcasting Laboratory Laboratories Lab Labs Hospital Clinic Museum
    Society Club Airlines Airways Bancorp Technologies Systems Pharmaceuticals Motors
    Industries Partners Capital Exchange Project Program Programme Campaign Initiative
    Forum Summit Secretariat Directorate Command Conference Church Media Foundation
    """
)
# Lower-cased words that may join capitalised parts when the word before is one of these.
_OF_HEADS = frozenset(w.lower() for w in _ORG_WORDS | TITLE_HEADS) | _words(
    "affairs state republic kingdom bank university ministry department secretary"
)
_PARTICLES = _words("bin ibn al el de del della da di van von der den du la le dos das y")
_ORG_ACRONYMS = _words(
    """
    UN UNAMI UNESCO UNICEF UNHCR WHO CDC FDA NIH NHS NATO EU OPEC IMF CIA FBI NSA NASA
    IAEA ICC ICJ BBC CNN NBC CBS ABC AP AFP IRNA NYSE FIFA IOC OECD WTO ASEAN IRGC
    USDA EPA SEC FTC FAA DOJ ECB IDF PRNewswire Reuters Pentagon Kremlin Mossad Hamas
    Hezbollah Taliban
    """
)
_PLACE_ACRONYMS = _words("US U.S. USA U.S.A. UK U.K. UAE U.A.E. DRC PRC")
_GAZETTEER = _names(
    """
    Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|Azerbaijan
    Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|Bosnia
    Botswana|Brazil|Brunei|Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|Canada|Chad|Chile
    China|Colombia|Congo|Costa Rica|Croatia|Cuba|Cyprus|Czech Republic|Czechia|Denmark
    Djibouti|Dominican Republic|Ecuador|Egypt|El Salvador|Eritrea|Estonia|Eswatini|Ethiopia
    Fiji|Finland|France|Gabon|Gambia|Georgia|Germany|Ghana|Greece|Guatemala|Guinea|Guyana
    Haiti|Honduras|Hungary|Iceland|India|Indonesia|Iran|Iraq|Ireland|Israel|Italy|Ivory Coast
    Jamaica|Japan|Jordan|Kazakhstan|Kenya|Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon
    Lesotho|Liberia|Libya|Lithuania|Luxembourg|Madagascar|Malawi|Malaysia|Maldives|Mali|Malta
    Mauritania|Mauritius|Mexico|Moldova|Monaco|Mongolia|Montenegro|Morocco|Mozambique|Myanmar
    Namibia|Nepal|Netherlands|New Zealand|Nicaragua|Niger|Nigeria|North Korea|North Macedonia
    Norway|Oman|Pakistan|Palestine|Panama|Paraguay|Peru|Philippines|Poland|Portugal|Qatar
    Romania|Russia|Rwanda|Saudi Arabia|Senegal|Serbia|Sierra Leone|Singapore|Slovakia
    Slovenia|Somalia|South Africa|South Korea|South Sudan|Spain|Sri Lanka|Sudan|Suriname
    Sweden|Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tunisia|Turkey|Turkiye
    Turkmenistan|Uganda|Ukraine|United Arab Emirates|United Kingdom|United States
    United States of America|Uruguay|Uzbekistan|Venezuela|Vietnam|Yemen|Zambia|Zimbabwe
    America|Britain|Great Britain|England|Scotland|Wales|Northern Ireland|Korea|Holland
    Africa|Asia|Europe|North America|South America|Latin America|Antarctica|Oceania
    Middle East|West Asia|Western Asia|Central Asia|South Asia|Southeast Asia|East Asia
    Persian Gulf|Gulf|Mediterranean|Red Sea|Black Sea|Caspian Sea|Balkans|Caucasus|Sahel
    Scandinavia|Arctic|Pacific|Atlantic|Indian Ocean|Gaza|Gaza Strip|West Bank|Golan Heights
    Kurdistan|Crimea|Donbas|Kashmir|Tibet|Xinjiang|Hong Kong|Macau|Sinai|Levant|Siberia
    Tehran|Baghdad|Basra|Mosul|Erbil|Najaf|Karbala|Kabul|Damascus|Aleppo|Beirut|Amman
    Jerusalem|Tel Aviv|Cairo|Riyadh|Jeddah|Mecca|Medina|Doha|Dubai|Abu Dhabi|Muscat|Sanaa
    Ankara|Istanbul|Moscow|Kyiv|Kiev|Minsk|Warsaw|Berlin|Paris|London|Madrid|Rome|Milan
    Vienna|Prague|Budapest|Brussels|Amsterdam|Geneva|Zurich|Stockholm|Oslo|Copenhagen
    Helsinki|Dublin|Lisbon|Athens|Beijing|Shanghai|Wuhan|Tokyo|Seoul|Pyongyang|Delhi
    New Delhi|Mumbai|Karachi|Islamabad|Lahore|Dhaka|Jakarta|Manila|Bangkok|Hanoi|Singapore
    Sydney|Melbourne|Washington|Washington DC|New York|New York City|Los Angeles|Chicago
    Houston|San Francisco|Boston|Miami|Seattle|Atlanta|Indianapolis|Toronto|Montreal
    Ottawa|Vancouver|Mexico City|Havana|Caracas|Bogota|Lima|Santiago|Buenos Aires
    Sao Paulo|Rio de Janeiro|Brasilia|Lagos|Nairobi|Addis Ababa|Johannesburg|Cape Town
    Khartoum|Tripoli|Tunis|Algiers|Rabat|Kinshasa|Baku|Yerevan|Tbilisi|Tashkent|Almaty
    Texas|California|Florida|Pennsylvania|Ohio|Michigan|Georgia|Virginia|Arizona|Nevada
    Oregon|Illinois|Wisconsin|Minnesota|Indiana|Colorado|Alaska|Hawaii|Louisiana|Kentucky
    Ontario|Quebec|Bavaria|Catalonia|Lombardy|Hubei|Guangdong|Punjab|Sistan|Baluchestan
    Khuzestan|Kurdistan Region|Anbar|Nineveh|Diyala|Kirkuk|Idlib|Raqqa|Deir ez-Zor
    """
)
_PLACE_WORDS = _words(
    """
    Province Provinces City County State Island Islands River Sea Ocean Lake Mountains
    Mountain Valley Strait Gulf Bay Peninsula Desert Region Street Avenue Square Airport
    Port Harbour Harbor Airbase Base District Governorate Oblast Canal Coast
    """
)
# Nationality words: "Iranian", "Iraqi", "Americans".
DEMONYMS = frozenset(
    form
    for word in [
        "Afghan",
        "African",
        "Albanian",
        "Algerian",
        "American",
        "Arab",
        "Arabian",
        "Argentine",
        "Armenian",
        "Asian",
        "Australian",
        "Austrian",
        "Azerbaijani",
        "Bahraini",
        "Bangladeshi",
        "Belgian",
        "Brazilian",
        "British",
        "Briton",
        "Bulgarian",
        "Burmese",
        "Canadian",
        "Chilean",
        "Chinese",
        "Colombian",
        "Croatian",
        "Cuban",
        "Czech",
        "Danish",
        "Dutch",
        "Egyptian",
        "Emirati",
        "English",
        "Ethiopian",
        "European",
        "Filipino",
        "Finnish",
        "French",
        "Georgian",
        "German",
        "Greek",
        "Hungarian",
        "Indian",
        "Indonesian",
        "Iranian",
        "Iraqi",
        "Irish",
        "Israeli",
        "Italian",
        "Japanese",
        "Jordanian",
        "Kenyan",
        "Korean",
        "Kurdish",
        "Kuwaiti",
        "Lebanese",
        "Libyan",
        "Malaysian",
        "Mexican",
        "Moroccan",
        "Nigerian",
        "Norwegian",
        "Omani",
        "Pakistani",
        "Palestinian",
        "Persian",
        "Peruvian",
        "Polish",
        "Portuguese",
        "Qatari",
        "Romanian",
        "Russian",
        "Saudi",
        "Scandinavian",
        "Scottish",
        "Serbian",
        "Somali",
        "Spanish",
        "Sudanese",
        "Swedish",
        "Swiss",
        "Syrian",
        "Taiwanese",
        "Thai",
        "Tunisian",
        "Turkish",
        "Ukrainian",
        "Venezuelan",
        "Vietnamese",
        "Welsh",
        "Western",
        "Eastern",
        "Yemeni",
        "Zimbabwean",
        "Shia",
        "Sunni",
        "Muslim",
        "Christian",
        "Jewish",
        "Kurd",
    ]
    for form in (word, word + "s")
)
# Words capitalised only because they start a sentence, a quote or a headline.
COMMON_WORDS = _words(
    """
    The A An This That These Those There Here It Its He She They We I You His Her Their
    Our My Your Him Them Us Me Who What When Where Why How Which Whose Whom Whether If
    But And Or Nor So Yet For Because Although Though While Whereas Since Unless Until
    After Before During As At By From In Into On Onto Of Off Out Over Under Up Down To
    With Without Within Across Along Among Amid Amongst Around Against Between Beyond
    Through Throughout Toward Towards Upon Via Per Despite Except Instead Like Unlike
    However Meanwhile Moreover Furthermore Nevertheless Nonetheless Therefore Thus Hence
    Also Still Even Just Only Already Again Indeed Perhaps Maybe Instead Otherwise Then
    Now Today Tomorrow Yesterday Tonight Recently Later Earlier Once Finally First Second
    Third Last Next Another Other Others Some Any Many Much More Most Few Several All Both
    Each Every Either Neither No None Not Nothing Something Everything Anything Everyone
    Someone Anyone Nobody Such Same Own Very Too Quite Rather Almost Nearly About Above
    Below Truth Myth Critics Officials Experts Scientists Researchers Analysts Residents
    People Sources Authorities Reports Studies Data Yes Please Thanks Dear Well Oh
    Is Are Was Were Be Been Has Have Had Do Does Did Will Would Shall Should Can Could May
    Might Must Let Say Says Said Asked According Given Following Including Regarding
    Speaking Asked Given Based Meanwhile Overall Together Similarly Additionally Notably
    Elsewhere Separately Initially Ultimately Currently Previously Traditionally Since
    New Old Big Small Good Bad Great Top High Low Long Short Full Free Open Key Major
    """
)
_MONTHS_AND_DAYS = _words(
    """
    January February March April May June July August September October November December
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Monday Tuesday Wednesday Thursday
    Friday Saturday Sunday
    """
)

# Abbreviations whose dot belongs to the word ("Dr. Helen Marsh").
_DOTTED = [
    "Dr",
    "Mr",
    "Mrs",
    "Ms",
    "Mx",
    "St",
    "Gen",
    "Sen",
    "Rep",
    "Gov",
    "Lt",
    "Col",
    "Capt",
    "Sgt",
    "Maj",
    "Prof",
    "Jr",
    "Inc",
    "Corp",
    "Ltd",
    "Co",
]
_UPPER = "".join(chr(c) for c in range(0x41, 0x250) if chr(c).isupper())
# One capitalised word ("Al-Asad", "O'Brien", "McDonald"), an acronym ("UNAMI", "COVID-19")
# or a dotted acronym ("U.S."); a possessive "'s" is left out.
# The first letter is matched apart, so that _CHAIN_RE starts with a character class:
# ``re`` then skips ahead to capitals instead of trying the pattern at every position.
_WORD_REST = (
    rf"(?:\.(?:[{_UPPER}]\.)+"
    rf"|[^\W_]*(?:[-'\u2019][{_UPPER}][^\W_]*|-\d+|-[a-z]+(?=-|\b))*"
    # "(?=\.)" first: a word not followed by a full stop skips the abbreviation lookbehinds.
    + "(?:(?=\\.)(?:"
    + "|".join(rf"(?<=\b{abbreviation})" for abbreviation in _DOTTED)
    + r")\.)?)"
)
_WORD = rf"[{_UPPER}]{_WORD_REST}"
_CHAIN_RE = re.compile(
    # "(?<![\w\-].)" after the first letter: no word character or hyphen before it
    rf"[{_UPPER}](?<![\w\-].){_WORD_REST}(?:[ \t\u00a0]+(?:(?:of|for|and|&|"
    rf"{'|'.join(sorted(_PARTICLES))})[ \t\u00a0]+)?(?:{_WORD}))*(?![\w\-])"
)
_PART_RE = re.compile(rf"{_WORD}|(?<=\s)(?:of|for|and|&|[a-z]+)(?=\s)")
# Where _PART_RE's joiner alternative could match: without one, a chain is all names.
_JOINER_RE = re.compile(r"\s[a-z&]")
_SPEECH_AFTER_RE = re.compile(
    r"[,]?\s+(?:has\s+|had\s+|also\s+|later\s+|then\s+)?(?P<verb>[a-z]+)\b"
)
_APPOSITIVE_RE = re.compile(
    r",\s+(?:who\b|a\s|an\s|the\s|[a-z]+\s(?:of|at|for)\s|director|professor|head|chief"
    r"|spokes|minister|president|founder|author|researcher|epidemiologist|expert)"
)
_TITLE_BEFORE_RE = re.compile(
    r"\b(?:chief|minister|president|spokesman|spokeswoman|director|professor|official|"
    r"counterpart|leader|author|host|secretary|envoy|ambassador|commander|expert)\s+$"
)
_PREPOSITION_BEFORE_RE = re.compile(r"\b(?:in|at|near|to|from|across|around)\s+$")
_SENTENCE_END_CHARS = ".!?:;\n\r\u2014\u2013-"
_OPENING_CHARS = " \t\"'\u201c\u2018([\u00ab"


def _is_sentence_start(text: str, start: int) -> bool:
    """True when ``start`` is the first word of a sentence, line, quote or dateline."""
    i = start
    while i > 0 and text[i - 1] in _OPENING_CHARS:
        i -= 1
    return i == 0 or text[i - 1] in _SENTENCE_END_CHARS or text[i - 1] in "\u201c\"'("


def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "").split("-", 1)[0]
    return len(letters) >= 2 and letters.isupper()


def _parts(chain: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each word and joiner in a chain, offsets within the chain."""
    return [(m.start(), m.end(), m.group()) for m in _PART_RE.finditer(chain)]


def _split_chain(chain: str) -> list[tuple[int, int]]:
    """Spans (within ``chain``) of the mentions a chain holds, cut at invalid joiners."""
    if not _JOINER_RE.search(chain):
        return [(0, len(chain))]  # every part is a capitalised word: nothing to cut at
    parts = _parts(chain)
    spans: list[tuple[int, int]] = []
    current_start = 0
    for index, (_start, _end, word) in enumerate(parts):
        if not word[0].islower() and word != "&":
            continue
        before = parts[index - 1][2] if index else ""
        after_words = []
        for _, _, following in parts[index + 1 :]:
            if following[0].islower() or following == "&":
                break
            after_words.append(following)
        if word in _PARTICLES and word not in ("and", "for"):
            valid = True
        elif word in ("of", "for"):
            valid = before.lower().rstrip(".") in _OF_HEADS
        else:  # "and" / "&": only inside an organisation name
            valid = bool(after_words) and after_words[-1] in _ORG_WORDS
        if not valid:
            spans.append((current_start, parts[index - 1][1]))
            current_start = parts[index + 1][0]
    spans.append((current_start, len(chain)))
    return spans


def _strip_leading(text: str, start: int, end: int) -> tuple[int, bool]:
    """Drop leading common words and person titles from a mention.

    Returns the new start (``end`` when nothing is left) and whether a title was dropped.
    """
    mention = text[start:end]
    if mention.isalpha():  # one plain word, as _PART_RE would find it
        words = [(start, mention)]
    else:
        words = [(m.start(), m.group()) for m in _PART_RE.finditer(text, start, end)]
    while words and words[0][1].rstrip(".") in COMMON_WORDS and not _is_acronym(words[0][1]):
        words.pop(0)
    if not words:
        return end, False
    start = words[0][0]
    if any(w in _ORG_WORDS for _, w in words):
        return start, False
    heads = [i for i, (_, w) in enumerate(words) if w.rstrip(".") in TITLE_HEADS]
    if not heads:
        return start, False
    cut = heads[-1]
    if not all(w.rstrip(".") in TITLE_WORDS or w in DEMONYMS for _, w in words[:cut]):
        return start, False
    if cut == len(words) - 1:
        return end, False  # only a title: "the Iraqi Foreign Minister"
    return words[cut + 1][0], True


def _label(text: str, start: int, end: int, titled: bool, persons: set[str]) -> str:
    """Label one mention from its own words and the context around it."""
    mention = text[start:end]
    words = mention.split()
    lowered = mention.lower()
    if titled:
        return "PERSON"
    if mention in _PLACE_ACRONYMS or lowered in _GAZETTEER:
        return "PLACE"
    if any(w in _ORG_WORDS for w in words) or mention in _ORG_ACRONYMS:
        return "ORG"
    if words[-1] in _PLACE_WORDS:
        return "PLACE"
    if _is_acronym(mention):
        return "ORG" if "-" not in mention and not any(c.isdigit() for c in mention) else "OTHER"
    if mention in persons:
        return "PERSON"
    if len(words) > 1 and all(w[0].isupper() and w.isalpha() for w in words):
        verb = _SPEECH_AFTER_RE.match(text, end)
        if (verb and verb["verb"] in SPEECH_VERBS) or _APPOSITIVE_RE.match(text, end):
            return "PERSON"
    if _TITLE_BEFORE_RE.search(text, max(0, start - 24), start) and len(words) > 1:
        return "PERSON"
    if _PREPOSITION_BEFORE_RE.search(text, max(0, start - 8), start):
        return "PLACE" if len(words) <= 3 and mention not in DEMONYMS else "OTHER"
    if len(words) == 1 and mention not in DEMONYMS:
        verb = _SPEECH_AFTER_RE.match(text, end)
        if verb and verb["verb"] in SPEECH_VERBS:
            return "PERSON"
    return "OTHER"


def _keep_sentence_initial(text: str, word: str) -> bool:
    """Whether a lone sentence-initial capitalised word is a name rather than a word."""
    if _is_acronym(word) or word.lower() in _GAZETTEER or word in _ORG_ACRONYMS:
        return True
    if word.endswith(("ing", "ly", "ed")):
        return False
    lower = word.lower()
    if _WORD_RE.fullmatch(lower):
        return lower not in _words_of(text)
    return re.search(rf"\b{re.escape(lower)}\b", text) is None


_WORD_RE = re.compile(r"\w+")


@functools.lru_cache(maxsize=1)
def _words_of(text: str) -> frozenset[str]:
    """Every maximal run of word characters in ``text``, found once per text.

    A word of word characters occurs in the text between word boundaries exactly when it is
    one of these runs. Searching the whole text again for each sentence-initial word made a
    long text without full stops quadratic.
    """
    return frozenset(_WORD_RE.findall(text))


def find_entities(text: str) -> list[dict[str, Any]]:
    """Capitalised name mentions and acronyms with a label (see the module docstring)."""
    mentions: list[tuple[int, int, bool]] = []
    for chain in _CHAIN_RE.finditer(text):
        chain_text = chain.group()
        for rel_start, rel_end in _split_chain(chain_text):
            start, end = chain.start() + rel_start, chain.start() + rel_end
            initial = _is_sentence_start(text, start)
            start, titled = _strip_leading(text, start, end)
            if start >= end:
                continue
            mention = text[start:end]
            if mention in _MONTHS_AND_DAYS or mention == "I":
                continue
            bare_initial = initial and start == chain.start() + rel_start and " " not in mention
            if bare_initial and not _keep_sentence_initial(text, mention):
                continue
            mentions.append((start, end, titled))
    persons: set[str] = set()
    for start, end, titled in mentions:
        if titled:
            _add_person(persons, text[start:end])
    labels = []
    for start, end, titled in mentions:
        label = _label(text, start, end, titled, persons)
        if label == "PERSON":
            _add_person(persons, text[start:end])
        labels.append(label)
    # A second look: a name first seen without a cue is a person if a later cue said so.
    return [
        {
            "text": text[start:end],
            "start": start,
            "end": end,
            "label": "PERSON" if label == "OTHER" and text[start:end] in persons else label,
        }
        for (start, end, _), label in zip(mentions, labels, strict=True)
    ]


def _add_person(persons: set[str], name: str) -> None:
    """Remember a person's full name and each part of it, for later bare-surname mentions."""
    persons.add(name)
    persons.update(word for word in name.split() if word not in _PARTICLES)
