"""The HTTP API and dashboard (FastAPI): the app and its routes (``app``), request bodies and
errors (``bodies``), tool routes (``tools``), the dashboard pages (``pages``)."""
