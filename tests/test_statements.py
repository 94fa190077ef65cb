"""The list of the paper's statements (aligned_latents/record/paper_statements.csv) and its loader.

Checks the shipped file (exact columns, unique ids, known kinds and chapters, every numbered
object of the paper present with its kind) and that ``load_statements`` rejects malformed
files with a message naming the row.
"""
from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from aligned_latents.record.statements import (
    KINDS,
    STATEMENT_COLUMNS,
    load_statements,
    statement_ids,
)
from aligned_latents.util.chapters import RESULT_PAGES

#: Every numbered object of the paper: id -> kind (Definitions 1-2, Lemmas 1-4,
#: Corollaries 1-4, Theorems 1-2, Figures 1-10, Tables 1-2).
NUMBERED = {
    "def1": "definition", "def2": "definition",
    "lemma1": "lemma", "lemma2": "lemma", "lemma3": "lemma", "lemma4": "lemma",
    "cor1": "corollary", "cor2": "corollary", "cor3": "corollary", "cor4": "corollary",
    "thm1": "theorem", "thm2": "theorem",
    **{f"fig{i}": "figure" for i in range(1, 11)},
    "table1": "table", "table2": "table",
}

#: The chapter that checks each numbered object.
NUMBERED_CHAPTER = {
    "lemma1": "stretching", "fig2": "stretching",
    "lemma2": "gaussians", "cor1": "gaussians", "cor2": "gaussians", "fig5": "gaussians",
    "def1": "autoencoders", "def2": "autoencoders", "thm1": "autoencoders",
    "cor3": "autoencoders", "cor4": "autoencoders", "thm2": "autoencoders",
    "lemma3": "autoencoders", "lemma4": "autoencoders",
    "table1": "glove", "table2": "glove", "fig3": "glove", "fig6": "glove", "fig7": "glove",
    "fig8": "glove", "fig9": "glove", "fig10": "glove",
    "fig4": "cmap", "fig1": "intro",
}


@pytest.fixture(scope="module")
def table():
    return load_statements()


def good_rows():
    return [
        {"statement": "lemma1", "location": "Section 3, Lemma 1", "kind": "lemma",
         "chapter": "stretching", "quote": "Let  $q_1, q_2 \\in \\mathbb{R}^d$  be unit vectors.",
         "not_checkable": ""},
        {"statement": "fig7.share_76", "location": "Appendix I.2, Figure 7", "kind": "sentence",
         "chapter": "glove", "quote": "76% of the autoencoded pairs have cosine similarity above 0.5.",
         "not_checkable": ""},
    ]


def write(path, rows, columns=STATEMENT_COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path


# -- the shipped file ------------------------------------------------------------------------

def test_columns_and_types(table):
    assert list(table.columns) == STATEMENT_COLUMNS
    assert len(table) >= 50
    assert all(table[c].map(type).eq(str).all() for c in STATEMENT_COLUMNS)


def test_ids_unique_and_well_formed(table):
    ids = table["statement"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"[a-z0-9_.]+").all()
    assert statement_ids() == ids.tolist()


def test_kinds_chapters_quotes(table):
    assert set(table["kind"]) <= set(KINDS)
    assert set(table["chapter"]) <= set(RESULT_PAGES)
    assert table["quote"].str.strip().ne("").all()
    assert table["location"].str.strip().ne("").all()
    # quotes are short excerpts (cut with "..."), one line each
    assert table["quote"].str.len().max() <= 170
    assert not table["quote"].str.contains("\n").any()


def test_every_numbered_object_present(table):
    by_id = table.set_index("statement")
    missing = sorted(set(NUMBERED) - set(by_id.index))
    assert not missing, f"numbered objects missing from paper_statements.csv: {missing}"
    for sid, kind in NUMBERED.items():
        assert by_id.loc[sid, "kind"] == kind, sid
    for sid, chapter in NUMBERED_CHAPTER.items():
        assert by_id.loc[sid, "chapter"] == chapter, sid
    # no other row claims a numbered kind: those are exactly the paper's numbered objects
    numbered_kinds = set(NUMBERED.values())
    extra = sorted(set(table.loc[table.kind.isin(numbered_kinds), "statement"]) - set(NUMBERED))
    assert not extra, f"rows of a numbered kind that are not numbered objects: {extra}"


def test_sub_statements_belong_to_a_known_object_or_section(table):
    prefix = re.compile(r"^(def\d+|lemma\d+|cor\d+|thm\d+|fig\d+|table\d+|s\d+(_\d+)*|app[a-i]\d*)$")
    for sid in table["statement"]:
        if "." in sid:
            head = sid.split(".")[0]
            assert prefix.match(head), sid


def test_not_checkable_is_a_reason_or_empty(table):
    nc = table.loc[table.not_checkable != "", "not_checkable"]
    assert (nc.str.len() >= 10).all()
    # the paper's results are checkable (on substitute data where needed); only a few rows,
    # definitions, a schematic, the authors' hardware, a plotting detail, a count of the
    # paper's own data set and three cross-reference typos, are not
    assert len(nc) <= 14
    checkable = table.loc[table.not_checkable == ""]
    for sid in ["fig7.share_76", "s6_3.degree30_nearly_perfect", "thm2.alpha_beta",
                "table1.k1_accuracy_gain", "appc.expectation", "thm2.third_decimal"]:
        assert sid in set(checkable.statement), sid


def test_file_ships_with_the_package():
    from importlib import resources

    res = resources.files("aligned_latents.record").joinpath("paper_statements.csv")
    assert res.is_file()


# -- the validation --------------------------------------------------------------------------

def test_a_good_file_loads(tmp_path):
    t = load_statements(write(tmp_path / "ok.csv", good_rows()))
    assert t["statement"].tolist() == ["lemma1", "fig7.share_76"]
    assert t.loc[0, "not_checkable"] == ""


@pytest.mark.parametrize("change, message", [
    ({"statement": "Lemma1"}, r"line 2 \(statement 'Lemma1'\).*must match"),
    ({"statement": "fig 7"}, r"line 2 .*must match"),
    ({"kind": "claim"}, r"line 2 .*kind 'claim' is not one of"),
    ({"chapter": "appendix"}, r"line 2 .*chapter 'appendix' is not one of"),
    ({"quote": "   "}, r"line 2 .*quote is empty"),
    ({"location": ""}, r"line 2 .*location is empty"),
])
def test_a_bad_row_is_named(tmp_path, change, message):
    rows = good_rows()
    rows[0].update(change)
    with pytest.raises(ValueError, match=message):
        load_statements(write(tmp_path / "bad.csv", rows))


def test_duplicate_id_is_named(tmp_path):
    rows = good_rows()
    rows[1]["statement"] = "lemma1"
    with pytest.raises(ValueError, match=r"line 3 \(statement 'lemma1'\): duplicate id, first on line 2"):
        load_statements(write(tmp_path / "dup.csv", rows))


@pytest.mark.parametrize("columns", [
    STATEMENT_COLUMNS[:-1],
    STATEMENT_COLUMNS[1:2] + STATEMENT_COLUMNS[:1] + STATEMENT_COLUMNS[2:],
    STATEMENT_COLUMNS + ["extra"],
])
def test_wrong_columns(tmp_path, columns):
    with pytest.raises(ValueError, match="columns must be exactly"):
        load_statements(write(tmp_path / "cols.csv", good_rows(), columns))


def test_the_shipped_file_round_trips(tmp_path, table):
    copy = tmp_path / "copy.csv"
    table.to_csv(copy, index=False, quoting=csv.QUOTE_MINIMAL)
    pd.testing.assert_frame_equal(load_statements(copy), table)
