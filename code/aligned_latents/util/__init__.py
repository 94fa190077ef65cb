"""Utilities every layer may use: input checks (:mod:`.validation`), the repository's
paths (:mod:`.paths`), the torch device (:mod:`.device`) and the registry of the book's
chapters (:mod:`.chapters`). Nothing here knows about the paper."""
