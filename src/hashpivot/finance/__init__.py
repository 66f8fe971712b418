"""Finance without mining: discounting and path statistics (``metrics``), company treasury, debt
and default per path (``company``), least-squares Monte Carlo (``lsm``)."""
