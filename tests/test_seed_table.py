"""The per-seed table that the theory chapters write (book.bookutils.seed_table)."""
import pytest

from aligned_latents.book.bookutils import seed_summary, seed_table
from aligned_latents.record.claims import Claims


def _claims():
    c = Claims("gaussians", evidence="simulation")
    c.close("Lemma 2", "one-seed check", 0.0, 0.1, 1.0, statement="lemma2")
    c.seeds("Lemma 2", "a ratio", [0.5, 1.5, 0.9], "at_most", 1.0, statement="lemma2")
    c.seeds("Corollary 2", "a slope", [-0.51, -0.49, -0.5], "close", -0.5, 0.02,
            statement="cor2", min_seeds=3, min_seeds_reason="a test")
    return c


def test_one_row_per_check_and_seed_with_its_outcome():
    table = seed_table(_claims(), [7, 8, 9])
    assert len(table) == 6                                  # the one-seed check is left out
    assert table.seed.tolist() == [7, 8, 9, 7, 8, 9]
    assert table.passes.tolist() == [True, False, True, True, True, True]
    assert table.value.tolist() == [0.5, 1.5, 0.9, -0.51, -0.49, -0.5]
    summary = seed_summary(table).set_index("quantity")
    assert summary.loc["a ratio", "passing seeds"] == 2
    assert summary.loc["a slope", "mean"] == pytest.approx(-0.5)
    assert summary.loc["a slope", "sd"] == pytest.approx(0.01)
    assert summary.loc["a ratio", "max"] == 1.5


def test_seeds_must_match_the_values():
    with pytest.raises(ValueError, match="not one per seed"):
        seed_table(_claims(), [7, 8])
