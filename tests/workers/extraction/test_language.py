"""Tests for workers.extraction.language.

Every sample is written for these tests; the shared articles are read at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workers.extraction.language import SAMPLE_CHARS, detect_language, is_english

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = Path(os.environ.get("FACTCHECK_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))
ARTICLES = ["000_dfb115d791d1cf54.txt", "001_1c9f022aa12bfb98.txt"]

ENGLISH = [
    "The city council voted on Tuesday to close the old bridge, which has been in poor "
    "repair for years. Officials said the work would start in the spring and that a new "
    "crossing should open by the end of next year.",
    "Prices at the pump rose for a third week, according to figures released on Monday. "
    "Analysts said the increase was driven by higher demand and that it would not last.",
    "He told reporters that the company had no plans to cut jobs. It was the first time "
    "he had spoken in public since the merger was announced.",
]

PARAGRAPHS = {
    "fr": "Le conseil municipal a voté mardi la fermeture du vieux pont. Selon la mairie, "
    "les travaux vont commencer au printemps et un nouveau passage sera ouvert avant la "
    "fin de l'année prochaine.",
    "de": "Der Stadtrat hat am Dienstag beschlossen, die alte Brücke zu schließen. Nach "
    "Angaben der Verwaltung sollen die Arbeiten im Frühjahr beginnen, und eine neue "
    "Überquerung wird bis Ende des nächsten Jahres fertig sein.",
    "es": "El consejo municipal votó el martes para cerrar el viejo puente. Según el "
    "ayuntamiento, las obras comenzarán en la primavera y un nuevo paso estará abierto "
    "antes del final del próximo año.",
    "it": "Il consiglio comunale ha votato martedì per chiudere il vecchio ponte. Secondo "
    "il comune, i lavori inizieranno in primavera e un nuovo passaggio sarà aperto entro "
    "la fine del prossimo anno, anche se non tutti sono d'accordo.",
    "pt": "O conselho municipal votou na terça-feira pelo fechamento da ponte velha. "
    "Segundo a prefeitura, as obras vão começar na primavera e uma nova passagem será "
    "aberta até o final do próximo ano, mas os moradores não estão satisfeitos.",
    "nl": "De gemeenteraad heeft dinsdag besloten de oude brug te sluiten. Volgens de "
    "gemeente beginnen de werkzaamheden in het voorjaar en wordt er voor het einde van "
    "volgend jaar een nieuwe oversteek geopend.",
    "sv": "Kommunfullmäktige röstade på tisdagen för att stänga den gamla bron. Enligt "
    "kommunen ska arbetet börja i vår och en ny övergång kan öppnas innan året är slut.",
    "pl": "Rada miasta zagłosowała we wtorek za zamknięciem starego mostu. Jak podał urząd, "
    "prace mają się rozpocząć wiosną, a nowa przeprawa ma być gotowa do końca przyszłego "
    "roku, ale nie wszyscy są zadowoleni.",
}

# Letters that look like Latin ones are the point here, hence the RUF001 exemptions.
SCRIPT_SAMPLES = {
    "ar": "قال وزير الخارجية إن المحادثات كانت مفيدة وإن الجانبين اتفقا على مواصلة الحوار.",
    "fa": "وزیر خارجه گفت که گفتگوها مفید بود و دو طرف بر ادامه همکاری تأکید کردند.",
    "ur": "وزیر خارجہ نے کہا کہ بات چیت مفید رہی اور دونوں فریق بات چیت جاری رکھیں گے۔",  # noqa: RUF001
    "ru": "Министр иностранных дел заявил, что переговоры были полезными и продолжатся.",
    "uk": "Міністр закордонних справ заявив, що переговори були корисними і триватимуть.",  # noqa: RUF001
    "zh": "外交部长表示，会谈很有成果，双方同意继续对话。",  # noqa: RUF001
    "ja": "外務大臣は、会談は有意義だったと述べ、対話を続けることで合意した。",
    "ko": "외교부 장관은 회담이 유익했으며 양측이 대화를 계속하기로 합의했다고 말했다.",
    "el": "Ο υπουργός Εξωτερικών δήλωσε ότι οι συνομιλίες ήταν χρήσιμες.",  # noqa: RUF001
    "he": "שר החוץ אמר כי השיחות היו מועילות וכי הצדדים ימשיכו בדיאלוג.",
    "hi": "विदेश मंत्री ने कहा कि बातचीत उपयोगी रही और दोनों पक्ष संवाद जारी रखेंगे।",
}


def load_article(name: str) -> str:
    path = DATA_DIR / "articles" / name
    if not path.is_file():
        pytest.skip(f"shared article {path} is not available")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ENGLISH)
def test_english_news_paragraphs(text: str) -> None:
    assert detect_language(text) == "en"
    assert is_english(text)


@pytest.mark.parametrize(("language", "text"), sorted(PARAGRAPHS.items()))
def test_latin_script_european_languages(language: str, text: str) -> None:
    assert detect_language(text) == language
    assert not is_english(text)


@pytest.mark.parametrize(("language", "text"), sorted(SCRIPT_SAMPLES.items()))
def test_non_latin_scripts(language: str, text: str) -> None:
    assert detect_language(text) == language
    assert not is_english(text)


def test_persian_and_arabic_are_told_apart_by_letters() -> None:
    # The same short greeting-like phrase, spelled with Persian and with Arabic letters.
    assert detect_language("این کتاب بزرگ است") == "fa"
    assert detect_language("هذا كتاب كبير جدا") == "ar"


def test_french_sentences_are_not_read_as_portuguese() -> None:
    """French "de", "en" and "a" (has) are French evidence, not only Portuguese or Spanish."""
    text = "Le chômage a baissé de 4,1 % en mai. Le maire a dit que la criminalité a augmenté."
    assert detect_language(text) == "fr"


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t", "Hello", "OK, thanks!", "2026-01-19 12:00", "€ 1,200.50 — ✓", "中国", "Да"],
)
def test_short_or_empty_input_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"
    assert not is_english(text)


def test_names_and_numbers_without_function_words_are_undetermined() -> None:
    assert detect_language("Araghchi Hussein Baghdad Tehran 2026 UNAMI") == "und"


def test_mixed_text_follows_the_dominant_language() -> None:
    text = ENGLISH[0] + " Le maire a dit « non »."
    assert detect_language(text) == "en"
    text = PARAGRAPHS["fr"] + " The mayor said no."
    assert detect_language(text) == "fr"


@pytest.mark.parametrize("name", ARTICLES)
def test_shared_articles_are_english(name: str) -> None:
    assert detect_language(load_article(name)) == "en"
    assert is_english(load_article(name))


def test_only_the_start_of_a_long_document_is_read() -> None:
    english = " ".join(ENGLISH) + " "
    text = english * (SAMPLE_CHARS // len(english) + 1) + PARAGRAPHS["de"] * 10_000
    assert detect_language(text) == "en"


def test_only_the_sample_is_read_so_cost_is_bounded() -> None:
    # Speed itself is measured by bench.extract, not here; this checks why it is bounded:
    # what follows the sample never changes the answer.
    article = " ".join(ENGLISH * 12)
    assert len(article) > SAMPLE_CHARS
    tail = " ".join(
        ["Die Regierung hat die Steuern erh\u00f6ht und die Preise sind gestiegen."] * 400
    )
    assert detect_language(tail) == "de"
    assert detect_language(article[:SAMPLE_CHARS] + tail) == "en"
