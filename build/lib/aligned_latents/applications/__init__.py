"""The paper's Section 6 pipelines, built from theory, metrics and data: GloVe's Tables
1-2 and Figures 3, 6-10 (:mod:`.glove`, the degree sweep :mod:`.glove_sweep`), CMap's
drug signatures from GSE92742's files (:mod:`.cmap_signatures`) and Figure 4's models on
them (:mod:`.cmap`), and the fluVaccine analogue (:mod:`.fluvaccine`)."""
