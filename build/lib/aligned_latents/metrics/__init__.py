"""What the applications measure: word-analogy accuracy (:mod:`.analogy`), word
similarity (:mod:`.wsim`), the alignment of drug signatures (:mod:`.drug_alignment`) and
row-wise vector operations they share (:mod:`.vectors`)."""
