"""Reviewer agreement: Krippendorff's alpha checked by hand and against the published example."""

from __future__ import annotations

import pytest

from service.domain.agreement import (
    PairAgreement,
    ReviewerRating,
    krippendorff_alpha,
    pairwise_agreement,
    unit_agreement,
)

SCALE = {"true": 5, "mostly-true": 4, "mixed": 3, "mostly-false": 2, "false": 1}
BY_NUMBER = {number: key for key, number in SCALE.items()}


def table(rows: dict[str, list[str | None]]) -> list[ReviewerRating]:
    """Ratings from one row per reviewer, column i being claim i + 1 (None: not rated)."""
    return [
        ReviewerRating(unit, coder, value)
        for coder, row in rows.items()
        for unit, value in enumerate(row, start=1)
        if value is not None
    ]


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: reliability
# data of 4 observers on 12 units, values 1-5, "." for missing. Unit 12 has one value only.
PAPER = """
A  1 2 3 3 2 1 4 1 2 . . .
B  1 2 3 3 2 2 4 1 2 5 . 3
C  . 3 3 3 2 3 4 2 2 5 1 .
D  1 2 3 3 2 4 4 1 2 5 1 .
"""


def paper_ratings() -> list[ReviewerRating]:
    rows = {}
    for line in PAPER.strip().splitlines():
        coder, *cells = line.split()
        rows[coder] = [None if cell == "." else BY_NUMBER[int(cell)] for cell in cells]
    return table(rows)


def test_paper_example_matches_the_published_alphas():
    # The paper's coincidence marginals are n_1..n_5 = 9, 13, 10, 5, 3 (n = 40) and it reports
    # nominal 0.743, ordinal 0.815, interval 0.849.
    ratings = paper_ratings()
    assert round(krippendorff_alpha(ratings), 3) == 0.743
    assert round(krippendorff_alpha(ratings, metric="ordinal", values=SCALE), 3) == 0.815
    assert round(krippendorff_alpha(ratings, metric="interval", values=SCALE), 3) == 0.849


def test_nominal_alpha_by_hand():
    ratings = table(
        {
            "ann": ["true", "false", "true", None],
            "bob": ["true", "false", "true", None],
            "cat": ["false", None, None, "true"],
        }
    )
    # Values T = true, F = false. Each unit adds every ordered pair of its values from two
    # different reviewers, weighted 1 / (m_u - 1):
    #   claim 1 (T, T, F), m = 3: o_TT += 2 * 1 / 2 = 1, o_TF += 2 * 1 / 2 = 1, o_FT += 1
    #   claim 2 (F, F),    m = 2: o_FF += 2
    #   claim 3 (T, T),    m = 2: o_TT += 2
    #   claim 4 (T),       m = 1: not pairable, ignored
    # o_TT = 3, o_TF = 1, o_FT = 1, o_FF = 2; n_T = 4, n_F = 3, n = 7.
    # alpha = 1 - (n - 1) * (o_TF + o_FT) / (n_T n_F + n_F n_T) = 1 - 6 * 2 / 24 = 0.5
    assert krippendorff_alpha(ratings) == pytest.approx(0.5)


SMALL = {
    "ann": ["true", "false", "mixed"],
    "bob": ["mostly-true", "false", "misleading"],
    "cat": ["unverifiable", "mostly-false", None],
}


def test_interval_alpha_by_hand_drops_ratings_without_a_number():
    # Numbers only: claim 1 (5, 4), claim 2 (1, 1, 2), claim 3 (3) is left with one value.
    #   claim 1, m = 2: o_54 += 1, o_45 += 1
    #   claim 2, m = 3: o_11 += 2 * 1 / 2 = 1, o_12 += 2 * 1 / 2 = 1, o_21 += 1
    # n_1 = 2, n_2 = 1, n_4 = 1, n_5 = 1; n = 5. With δ² = (c - k)²:
    #   observed  Σ o δ² = o_12 * 1 + o_21 * 1 + o_45 * 1 + o_54 * 1 = 4
    #   expected  Σ n_c n_k δ² = 2 * (2*1*1 + 2*1*9 + 2*1*16 + 1*1*4 + 1*1*9 + 1*1*1) = 132
    # alpha = 1 - (n - 1) * 4 / 132 = 1 - 16 / 132 = 29 / 33
    alpha = krippendorff_alpha(table(SMALL), metric="interval", values=SCALE)
    assert alpha == pytest.approx(29 / 33)


def test_ordinal_alpha_by_hand_uses_rank_frequencies():
    # Same coincidences as above. Ordinal δ²(c, k) = (Σ_{g=c..k} n_g - (n_c + n_k) / 2)²
    # with n_1 = 2, n_2 = 1, n_3 = 0, n_4 = 1, n_5 = 1:
    #   (1,2) 1.5² = 2.25  (1,4) 2.5² = 6.25  (1,5) 3.5² = 12.25  (2,4) 1  (2,5) 4  (4,5) 1
    #   observed = 2 * (o_12 * 2.25 + o_45 * 1) = 6.5
    #   expected = 2 * (2*2.25 + 2*6.25 + 2*12.25 + 1 + 4 + 1) = 95
    # alpha = 1 - 4 * 6.5 / 95 = 69 / 95
    alpha = krippendorff_alpha(table(SMALL), metric="ordinal", values=SCALE)
    assert alpha == pytest.approx(69 / 95)


def test_perfect_agreement_is_one():
    ratings = table({"ann": ["true", "false", "mixed"], "bob": ["true", "false", "mixed"]})
    assert krippendorff_alpha(ratings) == 1.0
    assert krippendorff_alpha(ratings, metric="interval", values=SCALE) == 1.0
    assert krippendorff_alpha(ratings, metric="ordinal", values=SCALE) == 1.0


def test_systematic_disagreement_is_negative():
    # o_TF = o_FT = 2, n_T = n_F = 2, n = 4: alpha = 1 - 3 * 4 / 8 = -0.5
    ratings = table({"ann": ["true", "false"], "bob": ["false", "true"]})
    assert krippendorff_alpha(ratings) == pytest.approx(-0.5)
    assert krippendorff_alpha(ratings, metric="interval", values=SCALE) < 0


def test_claims_rated_once_do_not_change_alpha():
    ratings = table({"ann": ["true", "false", "true"], "bob": ["true", "false", "false"]})
    lone = [
        ReviewerRating(10, "ann", "false"),
        ReviewerRating(11, "cat", "true"),
        ReviewerRating(12, "bob", "mixed"),
    ]
    assert krippendorff_alpha(ratings + lone) == krippendorff_alpha(ratings)


def test_a_reviewers_last_rating_of_a_claim_counts():
    ratings = table({"ann": ["true", "false"], "bob": ["true", "false"]})
    changed_mind = [ReviewerRating(2, "bob", "true"), *ratings]
    assert krippendorff_alpha(changed_mind) == 1.0
    assert krippendorff_alpha([*ratings, ReviewerRating(2, "bob", "true")]) < 1.0


def test_alpha_is_none_when_nothing_is_pairable_or_nobody_can_disagree():
    assert krippendorff_alpha([]) is None
    assert krippendorff_alpha(table({"ann": ["true", None], "bob": [None, "false"]})) is None
    every_claim_true = table({"ann": ["true", "true"], "bob": ["true", "true"]})
    assert krippendorff_alpha(every_claim_true) is None
    no_numbers = table({"ann": ["misleading"], "bob": ["unverifiable"]})
    assert krippendorff_alpha(no_numbers, metric="interval", values=SCALE) is None


def test_numeric_metrics_need_values_and_unknown_metrics_are_refused():
    ratings = table({"ann": ["true"], "bob": ["false"]})
    with pytest.raises(ValueError, match="needs `values`"):
        krippendorff_alpha(ratings, metric="interval")
    with pytest.raises(ValueError, match="unknown metric 'ratio'"):
        krippendorff_alpha(ratings, metric="ratio", values=SCALE)


def test_pairwise_agreement_by_hand():
    ratings = table(
        {
            "bob": ["true", "true", "true", "mixed", None, None],
            "ann": ["true", "false", "true", "mixed", None, None],
            "cat": ["true", None, None, None, "false", None],
            "dan": [None, None, None, None, None, "true"],
        }
    )
    # ann-bob share 4 claims and agree on 3. Over those claims ann gave true 2, false 1,
    # mixed 1; bob true 3, mixed 1. Chance agreement = (2*3 + 1*0 + 1*1) / 16 = 7/16, so
    # kappa = (12/16 - 7/16) / (1 - 7/16) = 5/9.
    # ann-cat and bob-cat share only claim 1, both "true": chance agreement is 1, kappa None.
    # dan shares no claim with anyone and appears in no pair.
    assert pairwise_agreement(ratings) == [
        PairAgreement(("ann", "bob"), units=4, agreed=3, share=0.75, kappa=pytest.approx(5 / 9)),
        PairAgreement(("ann", "cat"), units=1, agreed=1, share=1.0, kappa=None),
        PairAgreement(("bob", "cat"), units=1, agreed=1, share=1.0, kappa=None),
    ]


def test_pairwise_kappa_is_negative_one_for_opposite_verdicts():
    # Chance agreement = (1*1 + 1*1) / 4 = 1/2; kappa = (0 - 1/2) / (1 - 1/2) = -1.
    ratings = table({"zoe": ["true", "false"], "amy": ["false", "true"]})
    assert pairwise_agreement(ratings) == [
        PairAgreement(("amy", "zoe"), units=2, agreed=0, share=0.0, kappa=-1.0)
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], "none"),
        (["true"], "single"),
        (["false", "false", "false"], "unanimous"),
        (["true", "mostly-true"], "split"),
    ],
)
def test_unit_agreement(values, expected):
    assert unit_agreement(values) == expected
