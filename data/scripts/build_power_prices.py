"""Build the shipped hourly day-ahead power prices from the repositories the data leads name.

Run from the project root with the mirrors (bare git directories from ``fetch``)::

    python data/scripts/build_power_prices.py --mirror /work/.mirror

Writes, under ``src/hashpivot/data/``, one gzip CSV per market family, one row per UTC hour
(hour beginning, ``timestamp_utc`` in ISO form with ``Z``) and one column per node, prices in the
market's own currency per MWh:

* ``power_ercot_da.csv.gz`` — ERCOT day-ahead hub LMPs 2020–2024 [USD/MWh] (EIA wholesale
  market files, Catalan-AI-Studio/energy-demand-prediction): ``HB_HOUSTON``, ``HB_NORTH``,
  ``HB_PAN``, ``HB_SOUTH``, ``HB_WEST``, ``HB_HUBAVG``, ``HB_BUSAVG``;
* ``power_caiso_da.csv.gz`` — CAISO day-ahead zone LMPs 2020–2025-06 [USD/MWh] (EIA files,
  jargetz/lmp_analysis): ``NP15``, ``SP15``, ``ZP26``;
* ``power_nordpool_se_da.csv.gz`` — Nordic day-ahead SE1–SE4 2016–2024-10 [EUR/MWh] (ENTSO-E
  Transparency exports, punnoose-1620/machine-learning-project);
* ``power_entsoe_de_lu_da.csv.gz`` — DE-LU day-ahead 2020–2026-08 [EUR/MWh] (SMARD via
  energy-charts, MorrisJobke/day-ahead-prices); the quarter-hour prices from 2025-10-01 are
  averaged to the hour (four per hour, else the hour is left out).

Time zones: the EIA files carry UTC interval-ending stamps (taken, minus one hour); ENTSO-E
labels are Central European local time, so the spring-forward hour (an empty row in the
source) is dropped and the repeated fall-back hour is resolved in order (first CEST, then
CET); SMARD gives Unix seconds. Missing hours stay missing: no value is filled here.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "src" / "hashpivot" / "data"
ERCOT = ("Catalan-AI-Studio+energy-demand-prediction", "7ec43b9c825825ddf5b4553af8abfdc75b7ac102")
CAISO = ("jargetz+lmp_analysis", "f6eafef833d700bf0186f1a7dea2ca9260073fda")
NORDIC = ("punnoose-1620+machine-learning-project", "8aee07950d4db55196db0a362dc5d2b862e5456d")
DE_LU = ("MorrisJobke+day-ahead-prices", "ac032e0e773a091a836d9bf022169d325b51d4d9")
ERCOT_COLUMNS = {
    "Houston LMP": "HB_HOUSTON", "North LMP": "HB_NORTH", "Panhandle LMP": "HB_PAN",
    "South LMP": "HB_SOUTH", "West LMP": "HB_WEST", "Hub average LMP": "HB_HUBAVG",
    "Bus average LMP": "HB_BUSAVG",
}  # fmt: skip
CAISO_COLUMNS = {"NP-15 LMP": "NP15", "SP-15 LMP": "SP15", "ZP-26 LMP": "ZP26"}


class Repo:
    def __init__(self, mirror: Path, spec: tuple[str, str]) -> None:
        self.git = mirror / spec[0] / "repo"
        self.commit = spec[1]

    def show(self, path: str) -> bytes:
        return subprocess.run(
            ["git", "--git-dir", str(self.git), "show", f"{self.commit}:{path}"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip

    def ls(self, folder: str) -> list[str]:
        out = subprocess.run(
            ["git", "--git-dir", str(self.git), "ls-tree", "-r", "--name-only", self.commit,
             folder],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        return out.split()


def eia(repo: Repo, paths: list[str], columns: dict[str, str]) -> pd.DataFrame:
    frames = []
    for path in paths:
        df = pd.read_csv(io.BytesIO(repo.show(path)), skiprows=3)
        end = pd.to_datetime(df["UTC Timestamp (Interval Ending)"], utc=True)
        df = df[list(columns)].rename(columns=columns)
        df.index = end - pd.Timedelta(hours=1)
        frames.append(df)
    return pd.concat(frames)


def entsoe_local(repo: Repo, zone: str) -> pd.Series:
    parts = []
    for path in sorted(p for p in repo.ls("electricity") if p.startswith(f"electricity/{zone}_")):
        df = pd.read_csv(io.BytesIO(repo.show(path)), dtype=str)
        start = df.iloc[:, 0].str.slice(0, 16)
        price = pd.to_numeric(df.iloc[:, 1], errors="coerce")  # "n/e" and "" are missing
        local = pd.to_datetime(start, format="%d.%m.%Y %H:%M")
        keep = price.notna().to_numpy()
        # The spring-forward hour is an empty row; the fall-back hour comes twice, in order.
        stamps = pd.DatetimeIndex(local[keep]).tz_localize("Europe/Stockholm", ambiguous="infer")
        parts.append(pd.Series(price[keep].to_numpy(), index=stamps.tz_convert("UTC")))
    return pd.concat(parts).rename(zone)


def smard(repo: Repo) -> pd.Series:
    values: dict[pd.Timestamp, list[float]] = {}
    archive = subprocess.run(
        ["git", "--git-dir", str(repo.git), "archive", repo.commit, "data/raw"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        days = {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile() and m.name.endswith(".json")
        }
    for path in sorted(days):
        day = json.loads(days[path])
        if "EUR" not in day.get("unit", "EUR"):
            sys.exit(f"{path}: unit {day.get('unit')!r}")
        for t, p in zip(day["unix_seconds"], day["price"], strict=True):
            if p is None:
                continue
            hour = pd.Timestamp(t, unit="s", tz="UTC").floor("h")
            values.setdefault(hour, []).append(float(p))
    out = {}
    for hour, v in values.items():
        if len(v) in (1, 4):  # hourly to 2025-09-30, quarter-hourly after
            out[hour] = sum(v) / len(v)
    s = pd.Series(out).sort_index()
    return s[~s.index.duplicated()].rename("DE_LU")


def write(df: pd.DataFrame, name: str) -> None:
    df = df[~df.index.duplicated(keep="first")].sort_index()
    df.index = df.index.strftime("%Y-%m-%dT%H:%MZ")
    df.index.name = "timestamp_utc"
    text = df.to_csv(float_format="%.5f").replace(".00000,", ",")
    tmp = DATA / (name + ".tmp")
    with gzip.GzipFile(tmp, "wb", mtime=0) as fh:  # no time stamp: the same bytes every build
        fh.write(text.encode())
    tmp.replace(DATA / name)
    print(f"{name}: {len(df):,} hours {df.index[0]} .. {df.index[-1]}; columns {list(df.columns)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, required=True)
    args = ap.parse_args()
    ercot = Repo(args.mirror, ERCOT)
    write(
        eia(ercot, [f"data/ercot_lmp_da_hr_hubs_{y}.csv" for y in range(2020, 2025)],
            ERCOT_COLUMNS),
        "power_ercot_da.csv.gz",
    )  # fmt: skip
    caiso = Repo(args.mirror, CAISO)
    write(
        eia(caiso, [f"attached_assets/caiso_lmp_da_hr_zones_{y}_1768182367068.csv"
                    for y in range(2020, 2026)], CAISO_COLUMNS),
        "power_caiso_da.csv.gz",
    )  # fmt: skip
    nordic = Repo(args.mirror, NORDIC)
    write(pd.concat([entsoe_local(nordic, f"SE{k}") for k in range(1, 5)], axis=1),
          "power_nordpool_se_da.csv.gz")  # fmt: skip
    write(smard(Repo(args.mirror, DE_LU)).to_frame(), "power_entsoe_de_lu_da.csv.gz")


if __name__ == "__main__":
    main()
