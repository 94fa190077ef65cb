"""What the reader sees: the figures, one module per chapter (:mod:`.figures`), the
sliders (:mod:`.sliders`), the plotting style (:mod:`.style`), the chapters' helpers
(:mod:`.bookutils`), the Sphinx extension of the build (:mod:`.sphinx_ext`) and its
execution of the chapters side by side (:mod:`.side_by_side`)."""
