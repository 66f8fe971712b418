"""Hour-by-hour dispatch of a site against power prices: the LP on HiGHS built by ``define_*``
functions (``lp``)."""
