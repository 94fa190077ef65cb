"""Utilities every layer may use: input checks (:mod:`.validation`), the repository's
paths (:mod:`.paths`), the torch device (:mod:`.device`), the registry of the book's
chapters (:mod:`.chapters`, the one list of chapters), the paper's constants and reported
values (:mod:`.paper`, plain Python), the names of the paper's models (:mod:`.model_names`),
one-line messages (:mod:`.text`), file digests (:mod:`.files`) and the C heap
(:mod:`.memory`). Only :mod:`.paper` and
:mod:`.model_names` know about the paper, as data."""
