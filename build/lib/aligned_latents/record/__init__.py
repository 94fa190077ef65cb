"""The record of what the book checked: the paper's statements (:mod:`.statements`, from
``paper_statements.csv``), each chapter's checks (:mod:`.claims`), one verdict per
statement (:mod:`.verdicts`), the ledger of all checks and errata (:mod:`.ledger`), the
opening and errata pages built from it, with the checks of Figure 1 (:mod:`.frontpage`)
and comparisons of verdicts
between runs (:mod:`.compare`)."""
