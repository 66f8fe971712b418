"""The plan orchestrator: ``PlanModel`` built once (``model``), company finance wiring
(``finance``), special sites (``special_sites``), per-site reductions (``site_results``),
screening listed miners (``screen``), and ``run``: build → fit → chunks → reduce →
``PlanResult``."""
