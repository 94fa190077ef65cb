"""The paper's constants and reported values, one home for each, cited by section.

Plain Python (no numpy), so that every layer may import it: the theory's ranges, the
experimental settings of Appendix H and the values the paper reports (Tables 1-2, Figures
4-5 and 7), which the chapters compare with their own. A value the paper does not state but
implies says so.
"""
from __future__ import annotations

# -- Section 4 -------------------------------------------------------------------------
#: Smallest ``c`` for which Corollary 1's (Section 4.2) ``Σ_1 = D_1 + J = [[c+2, 1], [1, 2]]``
#: is positive semi-definite (``det = 2(c+2) - 1 >= 0``): implied, the paper does not
#: state a range for ``c``.
C_MIN = -1.5
#: Appendix D (Figure 5): "we chose c = -.9 and k = 35".
FIG5_C = -0.9
FIG5_K = 35

# -- Section 6.1 and Appendices H, I (GloVe) -------------------------------------------
#: Appendix H, GloVe: "a 1 hidden layer autoencoder with hidden dimension 400. We use SGD
#: with a learning rate of 0.1 and momentum of 0.9."
GLOVE_LEAKY_HIDDEN = 400
GLOVE_LEAKY_LR = 0.1
GLOVE_LEAKY_MOMENTUM = 0.9
#: Appendix I.2 (Figure 7): "For a linear autoencoder with k = 2, 76% of the autoencoded
#: pairs have cosine similarity above 0.5."
FIG7_SHARE_ABOVE_HALF = 0.76
FIG7_DEGREE = 2
#: Section 6.1, Table 1 (glove.840B.300d): one row per model.
TABLE1_COLUMNS = ("model", "wsim_mturk771", "wsim_men", "analogy", "analogy_accuracy")
TABLE1 = (
    ("Original", 0.629, 0.739, 0.417, 0.338),
    ("Linear AE (k=1)", 0.628, 0.738, 0.512, 0.382),
    ("Linear AE (k=2)", 0.611, 0.729, 0.656, 0.322),
    ("Leaky ReLU AE", 0.592, 0.698, 0.509, 0.370),
)
#: Appendix I.4, Table 2: wsim with the default origin and the corrected one. Its Leaky
#: ReLU MEN score (corrected origin, 0.598) differs from Table 1's (0.698) for the same
#: quantity; the GloVe chapter records the discrepancy.
TABLE2_COLUMNS = ("model", "mturk771_default", "men_default", "mturk771_corrected",
                  "men_corrected")
TABLE2 = (
    ("Original", 0.715, 0.804, 0.629, 0.739),
    ("Linear AE (k=1)", 0.431, 0.457, 0.628, 0.738),
    ("Linear AE (k=2)", 0.253, 0.221, 0.611, 0.729),
    ("Leaky ReLU AE", 0.559, 0.570, 0.592, 0.598),
)

# -- Section 6.3 and Appendix H (CMap) -------------------------------------------------
#: Section 6.3 (Figure 4c): "degree 30 in Figure 4c) leads to all drug signatures being
#: nearly perfectly aligned".
FIG4C_DEGREE = 30
#: Appendix H, drug signatures: "we use Adam with a learning rate of 10^-4, and we use an
#: architecture with 1024 hidden units. For the linear autoencoders, we use 911 hidden
#: units."
CMAP_LEAKY_LR = 1e-4
CMAP_LEAKY_HIDDEN = 1024
CMAP_LINEAR_HIDDEN = 911
