"""The paper's Section 6 pipelines, built from theory, metrics and data: GloVe's Tables
1-2 and Figures 3, 6-10 (:mod:`.glove`, the degree sweep :mod:`.glove_sweep`), CMap's
Figure 4 (:mod:`.cmap`) and the fluVaccine analogue (:mod:`.fluvaccine`)."""
