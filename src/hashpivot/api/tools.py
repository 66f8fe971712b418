"""API routes for the build-out and dispatch tools (no files read or written on request)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Depends, FastAPI
from pydantic import Field

from .. import buildout
from ..config import models as config
from ..config.buildout import load_campaign_text
from ..data import power_prices as price_data
from ..dispatch import site_file as dispatch_site
from . import answers
from .bodies import MAX_BODY_BYTES, ApiError, StrictBody

PRICE_SPEC = re.compile(price_data.MARKET_NAME_PATTERN)


class CampaignBody(StrictBody):
    campaign_yaml: str = Field(max_length=MAX_BODY_BYTES, description="Campaign YAML.")
    overrides: list[str] = Field(default_factory=list, max_length=100)


class DispatchBody(StrictBody):
    site_yaml: str = Field(max_length=MAX_BODY_BYTES, description="Site YAML with 'dispatch'.")
    prices: str = Field(
        "ercot:LZ_WEST:2023", max_length=40, description="Shipped prices: ercot:NODE:YEAR."
    )
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="Only this month.")


def add_tool_routes(app: FastAPI, reader: Any) -> None:
    """Register the build-out and dispatch tool routes on ``app`` (nothing is read from disk).

    Parameters
    ----------
    app : fastapi.FastAPI
        The application.
    reader : callable
        The dependency that guards read routes.
    """

    @app.post(
        "/api/buildout",
        tags=["tools"],
        dependencies=[Depends(reader)],
        response_model=answers.BuildoutAnswer,
    )
    def buildout_route(body: CampaignBody) -> dict[str, Any]:
        """A GW-scale build-out: capex, funding by source and the gap, circular exposure, IRRs."""
        cfg = load_campaign_text(body.campaign_yaml, "campaign_yaml", body.overrides)
        if cfg.scenarios > 20_000:
            raise ApiError(
                422,
                [
                    {
                        "loc": ["body", "campaign_yaml", "scenarios"],
                        "msg": f"{cfg.scenarios} is above the API's limit of 20000",
                    }
                ],
            )
        b, sens = buildout.run(cfg)
        return buildout.result_json(cfg, b, sens)

    @app.post(
        "/api/dispatch",
        tags=["tools"],
        dependencies=[Depends(reader)],
        response_model=answers.DispatchAnswer,
    )
    def dispatch_route(body: DispatchBody) -> dict[str, Any]:
        """Hour-by-hour mining against shipped power prices (an LP on HiGHS)."""
        if not PRICE_SPEC.match(body.prices):
            raise ApiError(
                422,
                [
                    {
                        "loc": ["body", "prices"],
                        "msg": f"{body.prices!r} is not allowed; allowed: "
                        + price_data.market_vocabulary(),
                    }
                ],
            )
        sf = config.validate(
            config.SiteFile, config.parse_yaml_text(body.site_yaml, "site_yaml"), "site_yaml"
        )
        if sf.dispatch is None:
            raise ApiError(
                422,
                [
                    {
                        "loc": ["body", "site_yaml", "dispatch"],
                        "msg": "missing; required for dispatch",
                    }
                ],
            )
        series = price_data.hourly_prices(body.prices)
        if body.month is not None:
            series = series.month(body.month)
        result, accounts = dispatch_site.run_site_file(sf, series)
        accounts["mined_mw"] = result.mined_mw.tolist()
        accounts["prices_usd_per_mwh"] = result.prices_usd_per_mwh.tolist()
        accounts["time_local"] = [t.strftime("%Y-%m-%d %H:%M") for t in series.index_local]
        return accounts
