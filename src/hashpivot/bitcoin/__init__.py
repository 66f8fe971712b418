"""Bitcoin's own rules and history: consensus arithmetic and hashprice (``network``), the shipped
daily and epoch history (``history``)."""
