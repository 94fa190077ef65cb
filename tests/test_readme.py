"""The README states the same verdict counts as the book's opening page."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from aligned_latents.record.frontpage import counts_markdown
from aligned_latents.util.paths import REPO_ROOT, results_root


def test_readme_counts_are_the_builds():
    path = results_root() / "ledger" / "verdicts.csv"
    if not path.is_file():
        pytest.skip(f"{path} does not exist: the book was not built (make book)")
    sentence = counts_markdown(pd.read_csv(path, dtype=str, keep_default_na=False))
    readme = re.sub(r"\s+", " ", (REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert re.sub(r"\s+", " ", sentence) in readme, (
        f"README.md must state the build's verdict counts: {sentence}")
