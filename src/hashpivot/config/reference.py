"""The schema reference (``hashpivot schema``, docs/plan-schema.md), generated from the models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from .alternatives import (
    ConvertLease,
    GpuCloud,
    KeepMining,
    MineFlexibly,
    PortfolioConfig,
    Relocate,
    Repower,
    RuleOutConfig,
    SellPower,
    SellSite,
    ShutDown,
)
from .buildout import (
    CampaignConfig,
    PowerConfig,
    RevenueConfig,
    SourceConfig,
    TrancheConfig,
)
from .finance import (
    CoInvestorConfig,
    CovenantsConfig,
    EmbargoConfig,
    HedgeConfig,
    JurisdictionConfig,
    LoanConfig,
    RationingConfig,
    RelocationConfig,
    SanctionsConfig,
    TaxConfig,
    TreasuryConfig,
)
from .models import (
    AssetConfig,
    CapexConfig,
    CompanyConfig,
    ConversionConfig,
    DispatchConfig,
    FleetEntryConfig,
    GpuCloudConfig,
    IndexConfig,
    LeaseConfig,
    MarketConfig,
    MarketModelConfig,
    PlanConfig,
    PlanSiteConfig,
    ReserveConfig,
    SiteConfig,
    SiteFile,
)
from .sections import (
    FinancingConfig,
    NoLoadConfig,
    PowerSaleConfig,
    ProceedsConfig,
    SellBackConfig,
)


def _constraints(info: Any) -> str:
    parts = []
    for meta in info.metadata:
        for attr, sym in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            v = getattr(meta, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
        if getattr(meta, "min_length", None):
            parts.append(f"at least {meta.min_length} item(s)/char(s)")
    return ", ".join(parts)


def _type_name(annotation: Any) -> str:
    from typing import get_args, get_origin

    generic = get_origin(annotation) is not None or get_args(annotation)
    text = str(annotation) if generic else getattr(annotation, "__name__", str(annotation))
    text = re.sub(r"hashpivot\.config\.\w+\.", "", text)
    text = text.replace("typing.", "").replace("datetime.", "")
    return text.replace("|", "\\|")  # a union's bar would split the Markdown table's cell


def schema_markdown() -> str:
    """The plan, site-file and build-out campaign schema as Markdown tables, generated from the
    pydantic models."""
    models: list[type[BaseModel]] = [
        PlanConfig,
        CompanyConfig,
        MarketModelConfig,
        IndexConfig,
        PlanSiteConfig,
        ConversionConfig,
        LeaseConfig,
        GpuCloudConfig,
        SellBackConfig,
        NoLoadConfig,
        PowerSaleConfig,
        ProceedsConfig,
        KeepMining,
        MineFlexibly,
        Repower,
        Relocate,
        ConvertLease,
        GpuCloud,
        SellPower,
        SellSite,
        ShutDown,
        FinancingConfig,
        PortfolioConfig,
        RuleOutConfig,
        TreasuryConfig,
        LoanConfig,
        CovenantsConfig,
        HedgeConfig,
        CoInvestorConfig,
        JurisdictionConfig,
        SanctionsConfig,
        EmbargoConfig,
        RationingConfig,
        TaxConfig,
        RelocationConfig,
        FleetEntryConfig,
        DispatchConfig,
        ReserveConfig,
        AssetConfig,
        CapexConfig,
        SiteFile,
        SiteConfig,
        MarketConfig,
        CampaignConfig,
        TrancheConfig,
        PowerConfig,
        RevenueConfig,
        SourceConfig,
    ]
    out = [
        "# Plan, site file and build-out campaign schema",
        "",
        "Generated from `hashpivot.config` by `hashpivot schema` — do not edit by hand.",
        "Units are in the field names. Unknown keys are errors. Fields without a default are",
        "required. Top-level plan keys starting with `x-` are ignored (use them for YAML anchors).",
        "",
    ]
    for model in models:
        out += [f"## {model.__name__}", "", (model.__doc__ or "").strip().split("\n\n")[0], ""]
        out += ["| field | type | default | allowed | description |", "|---|---|---|---|---|"]
        for name, info in model.model_fields.items():
            if info.is_required():
                default = "required"
            elif info.default_factory is not None:
                default = "[]" if info.default_factory is list else "(see section)"
            else:
                default = repr(info.default)
            desc = (info.description or "").replace("|", "\\|").replace("\n", " ")
            out.append(
                f"| `{name}` | {_type_name(info.annotation)} | {default} | "
                f"{_constraints(info)} | {desc} |"
            )
        out.append("")
    return "\n".join(out)
