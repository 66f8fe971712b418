"""Datasets: the real data hashpivot ships (the CSV files beside this module, with their origin,
licence and transformation in ``SOURCES.md``) and their loaders, below every model that reads
them. Hourly power prices (``power_prices``)."""
