"""Market futures: the market's types (``types``), calibration and the block-keyed simulator
(``scenarios``), the compiled market recursion (``kernel``)."""
