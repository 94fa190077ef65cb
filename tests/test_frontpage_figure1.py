"""Figure 1 of the opening page (:func:`aligned_latents.book.figures.intro.figure1`) and its
checks (:func:`aligned_latents.record.frontpage.figure1_claims`): panel (a) is one MDS
seed's picture, and its check runs over every MDS seed of the GloVe chapter
(``mds_alignment_seeds.csv``), by the seed rules of the verdicts.

Inputs are written into a temporary results root: two negation pairs whose arrows are
orthogonal in the original picture (alignment 0) and nearly parallel after encoding
(alignment 1/sqrt(1.01)).
"""
from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from aligned_latents.book.figures import intro
from aligned_latents.record import frontpage as F
from aligned_latents.record.claims import seed_values
from aligned_latents.record.verdicts import statement_verdict

matplotlib.use("Agg")

DRAWN = 1 / 1.01 ** 0.5  # the alignment of the linear_k2 picture below


@pytest.fixture
def root(tmp_path):
    for ch in ("intro", "glove", "cmap"):
        (tmp_path / ch).mkdir()
    return tmp_path


def write_picture(root):
    pd.DataFrame({"space": ["original"] * 2 + ["linear_k2"] * 2, "pair": [0, 1, 0, 1],
                  "word_a": ["able", "aware"] * 2, "word_b": ["unable", "unaware"] * 2,
                  "xa": [0.0] * 4, "ya": [0.0] * 4,
                  "xb": [1.0, 0.0, 1.0, 1.0], "yb": [0.0, 1.0, 0.1, 0.0]}
                 ).to_csv(root / "glove" / "figure3.csv", index=False)


def write_seeds(root, rows):
    """rows: (seed, original, linear_k2) of Figure 3; Figure 8 rows are added (they are
    not Figure 1's and must be ignored)."""
    df = pd.DataFrame(rows, columns=["seed", "original", "linear_k2"])
    df.insert(1, "figure", "figure3")
    other = df.assign(figure="figure8", linear_k2=-1.0)
    out = pd.concat([df, other], ignore_index=True)
    out["gain"] = out["linear_k2"] - out["original"]
    out.to_csv(root / "glove" / "mds_alignment_seeds.csv", index=False)


def write_cmap(root):
    pd.DataFrame({"drug": ["d1", "d2"], "model": ["linear", "linear"],
                  "cos_original": [0.1, 0.2], "cos_latent": [0.6, 0.7]}
                 ).to_csv(root / "cmap" / "figure4.csv", index=False)


def fig1_rows(root):
    rows = F.figure1_claims(root).frame()
    return rows[rows["statement"] == "fig1"]


def test_missing_inputs_and_the_drawn_figure(root):
    assert intro.missing_inputs(root / "intro") == [
        "glove/figure3.csv", "glove/mds_alignment_seeds.csv", "cmap/figure4.csv"]
    intro.figure1(root / "intro")  # draws the messages, does not fail
    write_picture(root)
    write_seeds(root, [(42, 0.0, DRAWN), (43, 0.5, 0.9), (44, 0.2, 0.4)])
    write_cmap(root)
    assert intro.missing_inputs(root / "intro") == []
    fig = intro.figure1(root / "intro")
    assert sum(len([c for c in ax.texts if c.arrow_patch is not None])
               for ax in fig.axes[:2]) == 4
    assert len(fig.axes[2].collections) == 1
    left, right = fig.axes[0].get_title(), fig.axes[1].get_title()
    assert "MDS seed 42" in left and "MDS seed 42" in right
    assert "alignment 0.00" in left and f"alignment {DRAWN:.2f}" in right
    assert "0.23 ± 0.25 over 3 seeds" in left   # originals 0, 0.5, 0.2
    assert "0.77 ± 0.32 over 3 seeds" in right  # 0.995, 0.9, 0.4


def test_the_seed_drawn_is_found_whatever_its_position(root):
    write_picture(root)
    write_seeds(root, [(7, 0.3, 0.6), (8, 0.0, DRAWN), (9, 0.1, 0.2)])
    seeds = F.figure1a_seeds(root)
    assert list(seeds["seed"]) == [7, 8, 9]  # Figure 8's rows left out
    assert list(seeds["picture"]) == [False, True, False]
    assert seeds["gain"].tolist() == pytest.approx([0.3, DRAWN, 0.1])
    assert set(seeds["space"]) == {"linear_k2"}
    table = F.figure1a_markdown(root)
    assert "| **8** | **0.000** | **0.995** | **+0.995** |" in table
    assert "| 7 | 0.300 | 0.600 | +0.300 |" in table


def test_a_picture_from_another_run_is_refused(root):
    write_picture(root)
    write_seeds(root, [(42, 0.1, 0.6), (43, 0.2, 0.7)])
    with pytest.raises(ValueError, match="different runs"):
        F.figure1a_seeds(root)


def test_without_the_seeds_file_no_check_and_no_table(root):
    write_picture(root)
    write_cmap(root)
    assert F.figure1a_seeds(root) is None
    assert fig1_rows(root).empty  # fig1 is then a gap, never a one-seed verdict
    assert "not in this build" in F.figure1a_markdown(root)
    assert list(F.figure1_claims(root).frame()["statement"]) == ["fig1.b"]


FIVE = [(42, 0.0, DRAWN), (43, 0.5, 0.9), (44, 0.2, 0.4), (45, 0.1, 0.3), (46, 0.6, 0.7)]


@pytest.mark.parametrize("seed_rows, outcome, verdict", [
    (FIVE, True, "confirmed on substitute data"),
    (FIVE[:2] + [(44, 0.2, 0.1)] + FIVE[3:], False, "within the seed spread"),
    (FIVE[:3], True, "no noise scale (too few seeds)"),  # a rerun with 3 MDS seeds
])
def test_the_check_runs_over_every_seed(root, seed_rows, outcome, verdict):
    write_picture(root)
    write_seeds(root, seed_rows)
    rows = fig1_rows(root)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["check"] == "seeds_at_least" and row["evidence"] == "substitute-data"
    assert seed_values(row) == pytest.approx([b - a for _, a, b in seed_rows])
    assert f"over {len(seed_rows)} seeds" in row["detail"]
    assert bool(row["holds"]) is outcome
    assert statement_verdict(rows) == verdict


def test_every_seed_worse_is_not_reproduced(root):
    write_picture(root)
    pd.DataFrame({"space": ["original"] * 2 + ["linear_k2"] * 2, "pair": [0, 1, 0, 1],
                  "word_a": ["a", "b"] * 2, "word_b": ["c", "d"] * 2,
                  "xa": [0.0] * 4, "ya": [0.0] * 4, "xb": [1.0, 1.0, 1.0, 0.0],
                  "yb": [0.0, 0.1, 0.0, 1.0]}).to_csv(root / "glove" / "figure3.csv",
                                                      index=False)
    write_seeds(root, [(42, DRAWN, 0.0), (43, 0.9, 0.5), (44, 0.5, 0.2), (45, 0.4, 0.3),
                       (46, 0.8, 0.1)])
    assert statement_verdict(fig1_rows(root)) == "not reproduced on substitute data"
