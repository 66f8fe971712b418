"""Backtest the market-model variants of ``docs/scenarios.md`` and record their scores
(``make backtest-scores``).

Every variant runs the full rolling backtest (month-end origins 2018-06 .. 2024-12, step 1,
horizons 3, 6, 12, 24 months, 4,000 paths, seed 1) exactly as ``hashpivot backtest`` does. Two
files are written, each atomically:

* ``src/hashpivot/market/backtest_scores.json`` — the records of the variants and of the market
  models of the example plans (a run's report quotes the one of its model; see
  ``hindcast.published_scores``);
* the table between the ``backtest-table`` markers in ``docs/scenarios.md``.

``--check`` recomputes and exits 1 when either file differs from what it would write.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from hashpivot.config.models import MarketModelConfig
from hashpivot.engine.run import market_calibration
from hashpivot.files import write_atomic
from hashpivot.market import hindcast

ROOT = Path(__file__).resolve().parents[2]
JSON_FILE = ROOT / "src" / "hashpivot" / "market" / hindcast.PUBLISHED_FILE
DOC = ROOT / "docs" / "scenarios.md"
TABLE = re.compile(r"(<!-- backtest-table:start -->\n).*?(<!-- backtest-table:end -->)", re.S)
AS_OF = re.compile(r"(<!-- asof-table:start -->\n).*?(<!-- asof-table:end -->)", re.S)
AS_OF_DAY = "2025-06-30"
ORIGINS, HORIZONS, PATHS, SEED = ("2018-06", "2024-12"), (3, 6, 12, 24), 4000, 1

#: name → (what it changes from the default, plan market settings). The first is the default.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("joint bootstrap, AR(1) hashrate errors, fees to a 24-month mean", {}),
    "gbm": ("BTC GBM, correlated normal shocks", {"btc_model": "gbm"}),
    "fees_window_mean": ("fees revert to the whole window's mean", {"fee_mean_months": None}),
    "hashrate_2013": (
        "hashrate response fitted from 2013",
        {"hashrate_window_start": "2013-01-01"},
    ),
    "block_12": ("bootstrap blocks of 12 months", {"bootstrap_block_months": 12}),
    "drift_historical": ("BTC drift estimated from the window (flagged)", {"drift": "historical"}),
    "drift_historical_hashrate_2013": (
        "historical drift and hashrate from 2013",
        {"drift": "historical", "hashrate_window_start": "2013-01-01"},
    ),
}


def example_models() -> dict[str, MarketModelConfig]:
    """The market sections of the bundled example plans (so every example quotes its model)."""
    from hashpivot.config.models import load_plan
    from hashpivot.errors import HashpivotError

    out = {}
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        try:
            cfg, _ = load_plan(path)
        except HashpivotError:
            continue  # not a plan (a campaign, a cost or dispatch file)
        out[f"example:{path.stem}"] = cfg.market
    return out


def run_variant(settings: dict[str, Any] | MarketModelConfig) -> dict[str, Any]:
    """The backtest record of a plan's market section (or of ``settings`` over the defaults)."""
    mc = settings if isinstance(settings, MarketModelConfig) else MarketModelConfig(**settings)
    calibration = market_calibration(mc)
    origins = hindcast.month_end_origins(*ORIGINS)
    hc = hindcast.run(origins, HORIZONS, n_paths=PATHS, seed=SEED, **calibration)
    rec = hindcast.record(hc, calibration, n_paths=PATHS, seed=SEED)
    rec.pop("version")  # the records change with the model and the data, not the version string
    return rec | {"data_sha256": hindcast.data_sha256()}


def table(records: dict[str, dict[str, Any]]) -> str:
    """Markdown: per variant and process, coverage, spread-skill and CRPS skill at 6/12/24 m."""
    lines = [
        "| variant | process | 90% band 6 / 12 / 24 m | 50% band 6 / 12 / 24 m "
        "| spread-skill 6 / 12 / 24 m | CRPS skill vs better baseline 12 / 24 m |",
        "|---|---|---|---|---|---|",
    ]
    for name, rec in records.items():
        for p in hindcast.PROCESSES:

            def cov(key: str, p: str = p, rec: dict[str, Any] = rec) -> str:
                return " / ".join(f"{rec[key][p][h]['rate']:.0%}" for h in ("6", "12", "24"))

            ss = " / ".join(f"{rec['spread_skill'][p][h]:.2f}" for h in ("6", "12", "24"))
            skill = " / ".join(
                f"{1 - rec['crps'][p][h] / min(rec['baseline_crps'][p][h].values()):+.0%}"
                for h in ("12", "24")
            )
            lines.append(
                f"| {name} | {p} | {cov('coverage_90')} | {cov('coverage_50')} | {ss} | {skill} |"
            )
    return "\n".join(lines) + "\n"


def as_of_table() -> str:
    """Markdown: the default model as of 2025-06-30, month by month against what happened."""
    calibration = market_calibration(MarketModelConfig())
    d = hindcast.path_check(AS_OF_DAY, n_paths=PATHS, seed=SEED, **calibration)
    lines = [
        "| month | process | realised | P5 | P50 | P95 | inside 90% | inside 50% |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in d.itertuples():
        fmt = "{:,.4f}" if r.process == "fees" else "{:,.1f}"
        vals = [fmt.format(v) for v in (r.realised, r.p5, r.p50, r.p95)]
        lines.append(
            f"| {r.month} | {r.process} | {' | '.join(vals)} | {'yes' if r.inside_90 else 'no'} "
            f"| {'yes' if r.inside_50 else 'no'} |"
        )
    held = d["inside_90"].mean()
    return (
        "\n".join(lines)
        + f"\n\n{held:.0%} of the {len(d)} realised values fell inside the 90% fan.\n"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = ap.parse_args()
    records = {}
    for name, (_, settings) in VARIANTS.items():
        records[name] = run_variant(settings)
        print(f"{name}: done", file=sys.stderr)
    examples = {}
    known = [r["calibration"] for r in records.values()]
    for name, mc in example_models().items():
        key = hindcast.calibration_key(market_calibration(mc))
        if key not in known:
            known.append(key)
            examples[name] = run_variant(mc)
            print(f"{name}: done", file=sys.stderr)
    shipped = {
        "origins": list(ORIGINS),
        "horizons": list(HORIZONS),
        "paths": PATHS,
        "seed": SEED,
        "made_by": "docs/scripts/backtest_scores.py --write",
        "records": [r | {"variant": n} for n, r in (records | examples).items()],
    }
    json_text = json.dumps(shipped, indent=1, sort_keys=True) + "\n"
    doc = DOC.read_text("utf-8")
    notes = "\n".join(f"- **{n}**: {what}" for n, (what, _) in VARIANTS.items())
    if not (TABLE.search(doc) and AS_OF.search(doc)):
        print(f"{DOC}: no backtest-table or asof-table markers", file=sys.stderr)
        return 1
    new_doc = TABLE.sub(lambda m: m.group(1) + notes + "\n\n" + table(records) + m.group(2), doc)
    path = as_of_table()
    new_doc = AS_OF.sub(lambda m: m.group(1) + path + m.group(2), new_doc)
    if args.check:
        stale = [
            str(p)
            for p, new in ((JSON_FILE, json_text), (DOC, new_doc))
            if p.read_text("utf-8") != new
        ]
        if stale:
            print("stale: " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    write_atomic(JSON_FILE, json_text)
    write_atomic(DOC, new_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
