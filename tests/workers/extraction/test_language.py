"""Tests for workers.extraction.language.

Every sample is written for these tests; the shared articles are read at run time.
bench.language reads :data:`SINGLE_SENTENCES` too, to measure accuracy on single sentences.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_data import FIRST_ARTICLE, SECOND_ARTICLE, shared_article
from workers.extraction.language import (
    SAMPLE_CHARS,
    detect_language,
    is_english,
    primary_language,
)
from workers.extraction.segment import split_sentences

REPO_ROOT = Path(__file__).resolve().parents[3]

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

# One sentence each, as a client sends to /score or `factcheck score`: news lines, questions and
# opinions of 7 to 16 words.
SINGLE_SENTENCES = {
    "es": [
        "El gobierno aprobó ayer un nuevo plan para reducir el precio de la electricidad.",
        "La tasa de paro bajó al 11 % en el último trimestre, según el instituto de estadística.",
        "Los vecinos del barrio llevan tres semanas sin agua potable.",
        "¿Cuántas personas murieron en el incendio del mercado?",
        "El alcalde prometió que el nuevo hospital abrirá sus puertas antes del verano.",
        "Nadie sabe todavía quién pagará la reparación del puente.",
        "La selección ganó el partido por dos goles a uno.",
        "Según la policía, el conductor iba a más de 150 kilómetros por hora.",
        "Las exportaciones de aceite crecieron un 20 % el año pasado.",
        "Me parece una decisión muy injusta para los agricultores.",
    ],
    "fr": [
        "Le gouvernement a annoncé mardi une hausse de 3 % du salaire minimum.",
        "Selon la préfecture, plus de dix mille personnes ont manifesté dans le centre-ville.",
        "Les travaux de la nouvelle ligne de tramway prendront deux ans de plus que prévu.",
        "Pourquoi le ministre n'a-t-il pas répondu aux questions des députés ?",
        "Le prix du pain a doublé en cinq ans dans certaines régions.",
        "Elle affirme que l'usine n'a jamais respecté les normes de sécurité.",
        "L'équipe locale a perdu son troisième match de suite.",
        "Les inondations ont détruit une centaine de maisons au sud du pays.",
        "Je crois que cette réforme arrive beaucoup trop tard.",
        "Le chômage des jeunes a baissé pour la première fois depuis 2019.",
    ],
    "de": [
        "Die Bundesregierung will die Steuern für kleine Unternehmen senken.",
        "Nach Angaben der Polizei wurden bei dem Unfall drei Menschen verletzt.",
        "Die Zahl der Arbeitslosen ist im März um 40.000 gestiegen.",
        "Warum hat die Stadt den Bau der Schule wieder verschoben?",
        "Der Bürgermeister sagte, das Schwimmbad werde im Sommer wieder geöffnet.",
        "Im vergangenen Jahr kamen mehr Touristen als je zuvor in die Region.",
        "Die Mieten in der Innenstadt sind seit 2015 um ein Drittel gestiegen.",
        "Viele Eltern halten die neuen Regeln für übertrieben.",
        "Der Zug nach Hamburg fällt heute wegen eines Streiks aus.",
        "Ich glaube nicht, dass die Reform etwas ändern wird.",
    ],
    "it": [
        "Il governo ha approvato ieri una nuova legge sul lavoro.",
        "Secondo l'Istat, la disoccupazione è scesa al 7 % nel mese di aprile.",
        "I lavori sulla strada statale dureranno almeno sei mesi.",
        "Perché il sindaco non ha ancora firmato il contratto?",
        "La squadra di casa ha vinto la partita all'ultimo minuto.",
        "Il prezzo della benzina è aumentato per la quarta settimana consecutiva.",
        "Molti studenti non hanno potuto sostenere l'esame a causa dello sciopero.",
        "Secondo me questa proposta non convincerà nessuno.",
    ],
    "pt": [
        "O governo anunciou ontem um aumento de 5 % nas pensões.",
        "Segundo a polícia, o incêndio começou numa fábrica abandonada.",
        "A inflação voltou a subir pelo terceiro mês consecutivo.",
        "Por que razão a câmara municipal adiou a obra da escola?",
        "Os agricultores dizem que a seca destruiu metade da colheita.",
        "O novo aeroporto deverá estar pronto dentro de quatro anos.",
        "A seleção perdeu o jogo por três golos a zero.",
        "Acho que o ministro devia pedir desculpa aos professores.",
    ],
    "ru": [
        "Правительство решило повысить пенсии на пять процентов.",
        "По данным полиции, в аварии пострадали четыре человека.",
        "Цены на хлеб за год выросли почти на треть.",
        "Почему мэрия до сих пор не отремонтировала мост?",
        "Новая станция метро откроется в конце следующего года.",
        "Местная команда проиграла уже третий матч подряд.",
        "Я думаю, что эта реформа никому не поможет.",
        "Из-за сильного снегопада в городе закрыли все школы.",
    ],
}

# English lines that the former hand-written detector read as Polish ("I", "do", "to", "no"
# are Polish function words), Portuguese or Dutch, so they went unscored.
ENGLISH_READ_AS_FOREIGN_BEFORE = [
    "I told you so, I told you so.",
    "I do think so, I do.",
    "I think I can do it alone.",
    "Oh, I do, I really do.",
    "Can I ask a question, I mean a real one?",
    "I do not know, I do not care.",
    "No, no, no, a promise is a promise.",
]

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


@pytest.mark.parametrize("text", ENGLISH)
def test_english_news_paragraphs(text: str) -> None:
    assert detect_language(text) == "en"
    assert is_english(text)


@pytest.mark.parametrize(("language", "text"), sorted(PARAGRAPHS.items()))
def test_latin_script_european_languages(language: str, text: str) -> None:
    assert detect_language(text) == language
    assert not is_english(text)


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, texts in SINGLE_SENTENCES.items() for text in texts],
)
def test_single_sentences_in_other_languages(language: str, text: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ENGLISH_READ_AS_FOREIGN_BEFORE)
def test_english_lines_once_read_as_other_languages_are_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        # Half English, half Spanish: a greeting to a bilingual audience.
        "Thank you all for coming tonight, y muchas gracias a todos.",
        # A chant of a word that is also Basque or Swedish, inside an English sentence.
        "And the crowd kept chanting, da, da, da, da, da, da.",
    ],
)
def test_english_with_a_foreign_phrase_is_never_read_as_foreign(text: str) -> None:
    assert detect_language(text) in ("en", "und")


@pytest.mark.parametrize(
    "text",
    [
        "Sure, it\u2019s a con game.",
        "Honestly, it\u2019s a sham job.",
        "Yes, it\u2019s a done deal.",
        "No, it\u2019s a con job.",
    ],
)
def test_curly_apostrophes_do_not_make_english_foreign(text: str) -> None:
    # Read with its curly apostrophe, "it's" leads the model to Japanese, Thai or Russian.
    assert detect_language(text) == "en"


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


@pytest.mark.parametrize("name", [FIRST_ARTICLE, SECOND_ARTICLE])
def test_shared_articles_are_english(name: str) -> None:
    assert detect_language(shared_article(name)) == "en"
    assert is_english(shared_article(name))


@pytest.mark.parametrize("name", [FIRST_ARTICLE, SECOND_ARTICLE])
def test_no_sentence_of_the_shared_articles_is_read_as_another_language(name: str) -> None:
    body = shared_article(name)
    sentences = [s.text for s in split_sentences(body) if len(s.text.split()) >= 5]
    assert len(sentences) > 5
    assert {detect_language(s) for s in sentences} <= {"en", "und"}


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


def test_the_bundled_model_is_used_and_nothing_is_downloaded(tmp_path: Path) -> None:
    """With every proxy pointing at a closed port, a download would fail: none is tried."""
    cache = tmp_path / "cache"
    cache.mkdir()
    dead = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "FTLANG_CACHE": str(cache),
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "ALL_PROXY": dead,
        "NO_PROXY": "",
    }
    probe = (
        "from workers.extraction.language import detect_language; "
        "print(detect_language('Der Zug nach Hamburg fällt heute wegen eines Streiks aus.'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "de"
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize(
    ("tag", "language"), [("en", "en"), ("en-GB", "en"), ("EN", "en"), ("pt-BR", "pt")]
)
def test_primary_language_of_a_declared_tag(tag: str, language: str) -> None:
    assert primary_language(tag) == language
