"""Self-contained HTML reports: the plan report and dispatch page (``plan``), the build-out report
(``buildout``)."""
