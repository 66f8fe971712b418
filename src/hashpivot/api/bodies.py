"""What the API's route modules share: the request-body base, the error type and the JSON
response that cannot fail to encode. A module of its own so that the routes import down to it
(``api`` mounts ``api_tools``; neither imports the other's internals)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from ..fmt import jsonable

#: Largest request body [bytes]: plans are a few kB; 1 MB leaves room and bounds memory.
MAX_BODY_BYTES = 1_000_000


class SafeJSONResponse(JSONResponse):
    """JSON with NaN/inf as null and text that cannot be UTF-8 (a lone surrogate) escaped."""

    def render(self, content: Any) -> bytes:
        """ASCII JSON with NaN and inf as null, never a non-standard token."""
        return json.dumps(
            jsonable(content), ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode("ascii")


class ApiError(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        self.status, self.detail = status, detail


class StrictBody(BaseModel):
    """A request body: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")
