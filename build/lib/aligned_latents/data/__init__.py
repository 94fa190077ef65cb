"""The data, read and written: word embeddings in text and word2vec formats
(:mod:`.embeddings`), CMap's GCTX files (:mod:`.gctx`), GSE92742's metadata tables and gene
selection (:mod:`.cmap_tables`) and the simulated L1000 set (:mod:`.l1000_sim`). Loaders
check their input and name the file and line at fault."""
