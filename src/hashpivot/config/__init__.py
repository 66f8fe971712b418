"""Every input schema (pydantic): the one source of units, ranges and defaults. YAML reading and
error formatting (``io``), sites and plans (``models``), company finance (``finance``), build-
out campaigns (``buildout``), the generated reference (``reference``)."""
