"""Regenerate every command-output block in README.md from a real run (``make readme``).

A block is a fenced code block right after a marker line::

    <!-- output: hashpivot network --date 2024-04-20 --json -->
    ```
    $ hashpivot network --date 2024-04-20 --json
    ...what the command printed...
    ```

The command runs with bash (pipes to ``head``, ``grep`` or ``sed`` are allowed) in a scratch
folder that links ``examples/``, with the project's virtual environment first on ``PATH``, 100
columns and no colour. The block gets stdout, and stderr too when the command exits non-zero
(the one-line errors a user sees). Run ids become ``RUNID`` and the scratch folder ``.``, so a
block depends only on the code and the data.

Outputs say how old the data are against today; the README records the day its blocks were made
(``*Outputs below made on YYYY-MM-DD``) and every command runs with ``HASHPIVOT_TODAY`` pinned to
it, so ``--check`` gives the same answer next month. ``--write`` moves the day to today. The
local data store is an empty folder inside the scratch folder.

``--check`` exits 1 and names the stale blocks instead of writing (the tests run it);
``--write`` rewrites README.md atomically.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = re.compile(
    r"^<!-- output: (?P<cmd>.+?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.M | re.S
)
RUN_ID = re.compile(r"\b\d{8}T\d{6}-[0-9a-f]{6}\b")
TODAY = re.compile(r"^\*Outputs below made on (\d{4}-\d{2}-\d{2})", re.M)


def run_block(cmd: str, scratch: Path, today: str) -> str:
    """What ``cmd`` prints, normalised."""
    env = dict(os.environ)
    env.update(COLUMNS="100", NO_COLOR="1", TERM="dumb", PYTHONHASHSEED="0", HASHPIVOT_TODAY=today)
    # An empty local data store of the scratch folder: a reader's own imports never show here.
    env["HASHPIVOT_DATA_DIR"] = str(scratch / ".hashpivot-data")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    r = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    text = r.stdout if r.returncode == 0 else r.stdout + r.stderr
    text = RUN_ID.sub("RUNID", text).replace(str(scratch) + "/", "").replace(str(scratch), ".")
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines()) + "\n"


def render(readme: str, today: str) -> tuple[str, list[str]]:
    """README text with every block regenerated, and the commands whose block changed."""
    stale: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hashpivot-readme-") as tmp:
        scratch = Path(tmp)
        (scratch / "examples").symlink_to(ROOT / "examples")

        def one(m: re.Match[str]) -> str:
            cmd = m["cmd"]
            body = f"$ {cmd}\n" + run_block(cmd, scratch, today)
            if body != m["body"]:
                stale.append(cmd)
            return f"<!-- output: {cmd} -->\n```{m['lang']}\n{body}```"

        return MARKER.sub(one, readme), stale


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    g.add_argument("--write", action="store_true", help="rewrite README.md")
    args = p.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    m = TODAY.search(text)
    if m is None:
        sys.exit("README.md: no '*Outputs below made on YYYY-MM-DD' line")
    if args.check:
        today = m[1]
    else:
        today = dt.datetime.now(dt.UTC).date().isoformat()
        text = TODAY.sub(f"*Outputs below made on {today}", text)
    new, stale = render(text, today)
    if args.check:
        for cmd in stale:
            print(f"stale README block: {cmd} (run: make readme)")
        return 1 if stale else 0
    tmp = README.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, README)
    print(f"README.md: {len(stale)} block(s) regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
