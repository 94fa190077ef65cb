"""What the reader sees: the figures, one module per chapter (:mod:`.figures`), the
sliders (:mod:`.sliders`), the plotting style (:mod:`.style`), the chapters' helpers
(:mod:`.bookutils`) and the Sphinx extension of the build (:mod:`.sphinx_ext`)."""
