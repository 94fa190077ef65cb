"""The paper's mathematics: closed forms of Lemmas 1-4, Corollaries 1-4 and Theorems 1-2
(:mod:`.closed_forms`), the Gaussian mixtures of Section 4 (:mod:`.gaussians`), and the
autoencoders the theorems are about: linear (:mod:`.linear_ae`), ReLU (:mod:`.relu_ae`)
and the Leaky ReLU network of the applications (:mod:`.nonlinear_ae`)."""
