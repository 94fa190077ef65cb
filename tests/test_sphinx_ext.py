"""The execution cache is cleared when the package changes (it keys on notebook code only)."""
from __future__ import annotations

from aligned_latents.book.sphinx_ext import (
    invalidate_cache_if_package_changed,
    package_digest,
)


def test_digest_follows_package_source(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    d1 = package_digest(tmp_path)
    assert package_digest(tmp_path) == d1
    (tmp_path / "a.py").write_text("x = 2\n")
    assert package_digest(tmp_path) != d1
    assert len(package_digest()) == 64  # the installed package itself


def test_cache_cleared_only_when_digest_changes(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    cache.mkdir()
    (cache / "global.db").write_text("old entries")
    assert invalidate_cache_if_package_changed(cache, "aaa")        # no stamp yet: cleared
    assert not (cache / "global.db").exists()
    (cache / "global.db").write_text("entries made with package aaa")
    assert not invalidate_cache_if_package_changed(cache, "aaa")    # unchanged: kept
    assert (cache / "global.db").exists()
    assert invalidate_cache_if_package_changed(cache, "bbb")        # changed: cleared
    assert not (cache / "global.db").exists()
    assert (cache / "aligned_latents.sha256").read_text().strip() == "bbb"
