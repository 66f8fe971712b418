"""Every test reads an empty local data store of its own session, never the user's."""

from __future__ import annotations

import os
import tempfile

#: Set before any hashpivot module reads it: a developer's own imports must not change results.
os.environ["HASHPIVOT_DATA_DIR"] = tempfile.mkdtemp(prefix="hashpivot-test-data-")
