"""A run kept: the DuckDB run store (``store``), plan runs in the ledger (``audit``), and the one
path from a plan to a stored run (``runner``)."""
