"""Tests for workers.extraction.reported: what a speaker said, cut out of its sentence
(invented sentences, and the seed articles through the engine)."""

from __future__ import annotations

import pytest

from tests.shared_data import shared_articles
from workers.extraction.engine import extract
from workers.extraction.reported import reported_span
from workers.extraction.speakers import find_cue


def said(sentence: str) -> str | None:
    cue = find_cue(sentence)
    assert cue is not None, f"no attribution found in {sentence!r}"
    span = reported_span(sentence, cue)
    return None if span is None else sentence[span[0] : span[1]]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # X said (that) Y, with what may stand between the verb and Y
        (
            "The finance minister said that unemployment fell to 4.1% in May.",
            "unemployment fell to 4.1% in May.",
        ),
        ("Mayor Ana Ruiz said rents rose 20% in two years.", "rents rose 20% in two years."),
        ("Ruiz told reporters that rents rose 20% in two years.", "rents rose 20% in two years."),
        ("Ruiz told the BBC rents rose 20% in two years.", "rents rose 20% in two years."),
        (
            "Ruiz said in a statement on Monday that rents rose 20% in two years.",
            "rents rose 20% in two years.",
        ),
        ("Ruiz said on Monday rents rose 20% in two years.", "rents rose 20% in two years."),
        (
            "Officials said, however, that 300 drones were launched overnight.",
            "300 drones were launched overnight.",
        ),
        ("Ruiz pointed out that rents rose 20% in two years.", "rents rose 20% in two years."),
        (
            "Ruiz, the city's mayor, has repeatedly warned that 3,000 families face eviction.",
            "3,000 families face eviction.",
        ),
        (
            "Ruiz announced that rents would be frozen for two years.",
            "rents would be frozen for two years.",
        ),
        (
            "Ruiz estimated 3,000 families had been evicted since 2020.",
            "3,000 families had been evicted since 2020.",
        ),
        # Y, X said / Y, said X / Y, according to X
        (
            "Unemployment fell to 4.1% in May, the statistics office said.",
            "Unemployment fell to 4.1% in May",
        ),
        (
            "Unemployment fell to 4.1% in May, the statistics office said on Tuesday.",
            "Unemployment fell to 4.1% in May",
        ),
        (
            "Unemployment fell to 4.1% in May, said Ana Ruiz, an economist at the bank.",
            "Unemployment fell to 4.1% in May",
        ),
        (
            "Unemployment fell to 4.1% in May, said the statistics office.",
            "Unemployment fell to 4.1% in May",
        ),
        ("Rents rose 20% in two years, Marie Roux said.", "Rents rose 20% in two years"),
        (
            "40,000 doses arrived in the first week, according to the ministry.",
            "40,000 doses arrived in the first week",
        ),
        # According to X, Y
        (
            "According to the ministry, 40,000 doses arrived in the first week.",
            "40,000 doses arrived in the first week.",
        ),
        (
            "According to Paul Okafor, the fish stocks are stable.",
            "the fish stocks are stable.",
        ),
        # a participle carries the statement when the verb does not
        (
            "Hussein echoed the view, noting that the two economies are closely linked.",
            "the two economies are closely linked.",
        ),
        (
            "Okafor welcomed the report, adding that fish stocks had doubled since 2010.",
            "fish stocks had doubled since 2010.",
        ),
        # direct quotations: the words inside the quote marks
        ("“Rents rose 20% in two years,” said Mayor Ana Ruiz.", "Rents rose 20% in two years"),
        ('"Rents rose 20% in two years," Ruiz said.', "Rents rose 20% in two years"),
        ("Ruiz said: “Rents rose 20% in two years.”", "Rents rose 20% in two years."),
        ("Ruiz added, “The fund has lost $3bn since 2019.”", "The fund has lost $3bn since 2019."),
        (
            "Okafor reinforced this, declaring, “The quay will open in May next year.”",
            "The quay will open in May next year.",
        ),
        # partial quotations: the quoted words are part of the writer's sentence
        (
            "The plan is “a total disaster for the city,” Ruiz said.",
            "The plan is “a total disaster for the city,”",
        ),
        (
            "Ruiz said the plan was “a disaster for the city” and would cost $5bn.",
            "the plan was “a disaster for the city” and would cost $5bn.",
        ),
        (
            "Ruiz stated that “rents rose 20% in two years” in the city.",
            "“rents rose 20% in two years” in the city.",
        ),
        # a quotation closing here that opened in an earlier sentence
        (
            "Shops shut early and roads were closed,” Vell said.",
            "Shops shut early and roads were closed",
        ),
        # only the outermost report is cut
        (
            "Fauci said the CDC said masks cut infections by 70%.",
            "the CDC said masks cut infections by 70%.",
        ),
        # a source named at the end of reported speech is not part of what was said
        (
            "Residents say rents rose 20% in two years, according to a city survey.",
            "rents rose 20% in two years",
        ),
    ],
)
def test_what_was_said_is_cut_out(sentence, expected):
    assert said(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        # under four words
        "Ruiz said no.",
        "Ruiz said so.",
        "Ruiz said rents rose.",
        "“Rents rose,” Ruiz said.",
        # questions
        "“Why did rents rise 20% in two years?” Ruiz said.",
        "Did the minister say that rents rose 20% in two years?",
        "Ruiz said: “Who will pay for the new bridge?”",
        # the words after the verb are not what was said
        "Ruiz said nothing about the 20% rise in rents.",
        "What Ruiz said was that rents rose 20% in two years.",
        "Ruiz said in 2019 the rent freeze had failed.",
        "Ruiz pointed to the 20% rise in rents over two years.",
        "Ruiz warned of a 20% rise in rents over two years.",
        "Ruiz stressed the importance of affordable housing in the city.",
        "Ruiz announced new measures to curb rents in the city.",
        # denials, beliefs, descriptions and appeals state nothing of the speaker's
        "Ruiz denied that rents rose 20% in two years.",
        "Ruiz believes the plan will fail within two years.",
        "Ruiz described the plan as a disaster for the city.",
        "Ruiz urged the council to freeze rents for two years.",
        # an attribution in mid-sentence: no one span holds what was said
        "The plan to widen the motorway, the minister said, will cost more than planned.",
        "The plan to widen the motorway, says Ruiz, will cost more than planned.",
    ],
)
def test_no_span_for_what_is_not_a_statement(sentence):
    assert said(sentence) is None


@pytest.mark.parametrize(
    "sentence",
    [
        "The said document was signed in 1990 by both countries.",
        "Under the said agreement, both countries must cut emissions by half.",
    ],
)
def test_said_as_an_adjective_is_no_attribution(sentence):
    claims = extract(sentence)
    assert [c["kind"] for c in claims] == ["sentence"]
    assert claims[0]["speaker"] is None


def test_a_pronoun_nobody_was_named_for_gives_no_span():
    """Without a speaker the engine can name, Y is not offered as reported speech."""
    claims = extract("He said rents rose 20% in two years.")
    assert [c["kind"] for c in claims] == ["sentence"]
    claims = extract("Ana Ruiz said no. She said rents rose 20% in two years.")
    reported = [c for c in claims if c["kind"] == "reported"]
    assert [(c["text"], c["speaker"]) for c in reported] == [
        ("rents rose 20% in two years.", "Ana Ruiz")
    ]


def test_an_opinion_is_not_offered():
    claims = extract("“We are very pleased with this development,” Ruiz said.")
    assert [c["kind"] for c in claims] == ["sentence"]
    claims = extract("Ruiz said the new housing plan was terrible for the city.")
    assert [c["kind"] for c in claims] == ["sentence"]


def _reported(body: str) -> dict[str, tuple[str, str | None]]:
    """Reported spans by the first words of their sentence: (text, speaker)."""
    claims = extract(body)
    found = {}
    for claim in claims:
        if claim["kind"] != "reported":
            continue
        sentence = next(
            c for c in claims if c["kind"] == "sentence" and c["start"] <= claim["start"] < c["end"]
        )
        assert sentence["text"] != claim["text"]
        found[" ".join(sentence["text"].split()[:3])] = (claim["text"], claim["speaker"])
    return found


def _seed(prefix: str) -> str:
    path = next((p for p in shared_articles() if p.name.startswith(prefix)), None)
    if path is None:
        pytest.skip(f"seed article {prefix}* is not in the shared data folder")
    return path.read_text(encoding="utf-8")


ARAGHCHI = ("Araghchi", "Abbas Araghchi")
HUSSEIN = ("Hussein", "Fuad Hussein")


def test_first_seed_article_offers_the_facts_inside_reported_speech():
    found = _reported(_seed("000_"))
    expected = {
        "Iranian Foreign Minister": ("the withdrawal of US forces", ARAGHCHI),
        "Araghchi said Iran": ("Iran has consistently supported", ARAGHCHI),
        "He noted that": ("the talks followed Iraq\u2019s recent elections", ARAGHCHI),
        "According to Araghchi,": ("Iraq\u2019s regional standing is improving", ARAGHCHI),
        "He added that": ("Iran and Iraq had discussed joint initiatives", ARAGHCHI),
        "Iraqi Foreign Minister": ("the security of Iraq and Iran", HUSSEIN),
        "He said regional": ("regional leaders he met", HUSSEIN),
        "Hussein added that": ("Tehran and Baghdad agree", HUSSEIN),
        "He also said": ("he was briefed on recent developments in Iran", HUSSEIN),
    }
    assert set(found) == set(expected)
    for opening, (text, speakers) in expected.items():
        assert found[opening][0].startswith(text), opening
        assert found[opening][1] in speakers, opening
    # The sentence's own facts: everything after "said"/"that" up to its full stop.
    assert found["He noted that"][0].endswith("bilateral cooperation.")
    assert found["He also said"][0].endswith("escalated the situation into violence.")


def test_second_seed_article_offers_quotes_and_reported_facts():
    body = _seed("001_")
    found = _reported(body)
    assert found["“Iraq\u2019s regional role"] == (
        "Iraq\u2019s regional role is on an upward trajectory",
        "Araghchi",
    )
    assert found["He added, “The"] == (
        "The era of covert operations dictating policy here is over.",
        "Araghchi",
    )
    assert found["Fuad Hussein stated"][1] == "Fuad Hussein"
    assert found["During the joint"] == (
        "the stability of both nations is inextricably linked to the security of the entire "
        "region.",
        "Fuad Hussein",
    )
    # "the White House said it was planning ...": the figures are inside the span.
    white_house = next(
        c for c in extract(body) if c["kind"] == "reported" and c["speaker"] == "White House"
    )
    assert white_house["text"].startswith("it was planning to diminish presence")
    assert "40,000 American soldiers" in white_house["text"]
    assert "quantity" in white_house["types"]
    assert any(q["value"] == 40000 for q in white_house["quantities"])
    # An opinion, a described stance and a plain object are not offered.
    assert "“We are very" not in found
    assert "He stressed the" not in found
    assert "Araghchi pointed to" not in found
