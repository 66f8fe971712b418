"""What each API route answers: the response models ``/openapi.json`` documents. Fixed keys are
typed fields (units in their names); answers that carry a run's summary or a tool's detail keep
those open parts as maps (documented by the CLI's ``--json`` of the same command)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    """An answer with exactly these keys."""

    model_config = ConfigDict(extra="forbid")


class OpenAnswer(BaseModel):
    """An answer with these keys and more (the detail of a summary or a tool)."""

    model_config = ConfigDict(extra="allow")


class Health(Answer):
    ok: bool
    version: str
    data: list[str] = Field(description="First and last day of the shipped daily data.")


class NetworkHistory(OpenAnswer):
    date: list[str]
    halvings: list[dict[str, Any]]
    hashprice_usd_per_ph_day: list[float | None]


class CostAnswer(OpenAnswer):
    site: str
    market: str
    energy_cost_usd_per_btc: float | None
    cash_cost_usd_per_btc: float | None
    all_in_cost_usd_per_btc: float | None
    breakeven_power_usd_per_kwh: float | None
    breakeven_btc_price_usd: float | None
    cost_usd: dict[str, float]
    cost_usd_per_btc: dict[str, float | None]


class PlanValidation(Answer):
    valid: bool
    name: str
    sites: int
    paths: int
    months: int


class JobView(Answer):
    job_id: str
    plan: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(description="Share of the paths done [0, 1].")
    done_paths: int
    paths: int
    run_id: str | None
    error: str | None


class RunListItem(Answer):
    run_id: str
    created_utc: str
    plan: str
    paths: int
    months: int
    seed: int
    npv_usd_mean: float | None
    report_path: str | None


class SweepListItem(Answer):
    sweep_id: str
    created_utc: str
    status: str = Field(description="running (variants still arriving) or complete")
    plan_name: str
    plan_sha256: str
    version: str
    design: dict[str, Any] = Field(
        description="The varied keys: grid [{key, values}] and lhs {points, ranges}."
    )
    n_variants: int
    paths: int
    seed_per_variant: bool
    workers: int | None
    where_run: str | None
    seconds: float | None
    report_path: str | None


class SweepVariant(Answer):
    index: int
    overrides: dict[str, Any]
    seed: int
    npv_usd: dict[str, float] = Field(description="mean, p5, p50, p95 of company NPV [USD]")
    p_default: dict[str, float] | None = Field(description="P(default) by horizon [-]")
    p_cash_negative: dict[str, float]
    decision: dict[str, dict[str, Any]] | None
    seconds: float


class SweepHeatMap(Answer):
    x_key: str
    y_key: str
    x_values: list[Any]
    y_values: list[Any]
    npv_usd: list[list[float | None]] = Field(description="[row][column] mean NPV [USD]")
    binned: bool


class SweepTornadoRow(Answer):
    key: str
    low_value: Any
    high_value: Any
    low_npv_usd: float
    high_npv_usd: float
    swing_usd: float


class SweepTable(Answer):
    columns: list[str] = Field(description="The variants' table's columns, as the report has them.")
    rows: list[list[str]] = Field(description="One formatted row per variant.")


class SweepDetail(SweepListItem):
    variants_done: int
    keys: list[str]
    variants: list[SweepVariant] = Field(description="Every stored variant, in variant order.")
    table: SweepTable
    heat_maps: list[SweepHeatMap]
    tornado: list[SweepTornadoRow]


class DecisionTable(Answer):
    columns: list[str] = Field(description="The decision table's columns, as the CLI prints them.")
    rows: list[list[str]] = Field(description="One formatted row per site.")
    portfolio: list[tuple[str, str]] = Field(
        description="Label and text: the portfolio against keep and greedy, binding limits, "
        "alternatives ruled out, notes."
    )


class RunDetail(Answer):
    run_id: str
    created_utc: str
    plan: str
    plan_sha256: str
    seed: int
    paths: int
    months: int
    version: str
    summary: dict[str, Any] = Field(description="As `hashpivot plan --json` printed it.")
    calibration: dict[str, Any]
    results_sha256: str
    report_path: str | None
    decision_table: DecisionTable | None = Field(
        None, description="The summary's decision formatted as the CLI and the report show it."
    )


class RunSeries(Answer):
    run_id: str
    months: int
    series: dict[str, dict[str, list[float | None]]] = Field(
        description="Series → band (p5, p25, p50, p75, p95, mean) → value by month."
    )
    npv_usd: list[float] = Field(description="Every path's NPV, or equal-mass quantiles of it.")
    npv_paths: int
    npv_usd_is_quantiles: bool


class VerificationCheck(Answer):
    check: str
    ok: bool
    value: Any


class Verification(Answer):
    run_id: str
    ok: bool
    ledger_index: int | None
    head: dict[str, Any] | None
    checks: list[VerificationCheck]


class LedgerHead(OpenAnswer):
    ledger: str
    size: int
    root_hex: str


class BuildoutAnswer(OpenAnswer):
    """The build-out's summary, as ``hashpivot buildout --json`` prints it."""


class DispatchAnswer(OpenAnswer):
    status: str
    objective_usd: float
    mwh_mined: float
    hours: int
    mined_mw: list[float]
    prices_usd_per_mwh: list[float]
    time_local: list[str]
