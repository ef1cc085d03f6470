"""A pipeline run's figures beside the baseline's: `bench/pipeline.py --out NEW.json`, then

    python bench/compare.py NEW.json [--baseline bench/baseline.json] [--json]

Every figure of each database (nested keys joined with dots) is shown with the
baseline's value, the new value, the change in %, which way is better when that is
known (rates and ratios up; latency, statements, transactions and memory down) and
whether the change is better, worse or within `--threshold` % of the baseline. Run
settings that differ (orders, rates, cores, ...) are listed first: figures from
different settings do not compare. It informs and never fails: the exit code is 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["compare", "direction", "flatten", "main"]

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_BASELINE = BENCH_DIR / "baseline.json"

# First match wins, on the dotted key within a database. None: no better way (counts,
# settings, CPU shares that rise with throughput, and the reference, which is the
# yardstick rather than the thing measured).
DIRECTIONS: tuple[tuple[str, str | None], ...] = (
    (r"^reference_", None),
    (r"^targets_met\.", None),  # true or false: the verdict says met now or missed now
    (r"^(latency_orders|db_work\.orders$|separate_workers$|wms_distinct_orders$)", None),
    (r"(^|\.)(latency_p99_ratio|rss_ratio|cpu_per_order_ratio)(\.|$)", "lower"),
    (r"^cpu_ms_per_order(_by_thread)?\.", "lower"),
    (r"cpu_ms_per_webhook$|backlog_at_intake_end$", "lower"),
    # What the machine had to give the processes: a yardstick, not the thing measured.
    (r"^worker_processes\.(machine_cores_busy\.|ratio_the_machine_allows$)", None),
    (r"^worker_processes\.worker_cpu_ms_per_order\.", "lower"),
    (r"ratio", "higher"),
    (r"_per_s$", "higher"),
    (r"^worker_processes\.(\d+|completed\.\d+)$", "higher"),
    (r"^(completed|webhooks_accepted)$", "higher"),
    (r"latency|response_ms|service_ms|schedule_lag", "lower"),
    (r"_per_order$|^db_work\.", "lower"),
    (r"rss_mb$", "lower"),
    (r"duplicate", "lower"),
)
SKIPPED = ("profile",)  # per-function shares of a profiled run: not figures to compare

Leaf = float | int | bool | None


def flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Leaf]]:
    """Every number, true/false and null under `data`, as (dotted key, value)."""
    for key, value in data.items():
        if key in SKIPPED:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        elif value is None or isinstance(value, bool | int | float):
            yield name, value


def direction(key: str) -> str | None:
    """ "higher" or "lower" when that way is better for the figure `key`, else None."""
    for pattern, way in DIRECTIONS:
        if re.search(pattern, key):
            return way
    return None


def _databases(data: Mapping[str, Any]) -> list[str]:
    return [k for k, v in data.items() if isinstance(v, Mapping) and k != "targets"]


def _settings(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in data.items() if not isinstance(v, Mapping) and k not in ("hub_source",)
    }


def _verdict(way: str | None, base: Leaf, new: Leaf, change: float | None, threshold: float) -> str:
    if isinstance(base, bool) or isinstance(new, bool):
        if base is None or new is None or base == new:
            return ""
        return "met now" if new else "missed now"
    if way is None or base is None or new is None:
        return ""
    if change is None:  # from zero: any change is beyond the threshold
        change = float(new - base)
    if abs(change) <= threshold and (change == 0 or base != 0):
        return "same"
    return "better" if (change > 0) == (way == "higher") else "worse"


def compare(
    baseline: Mapping[str, Any], new: Mapping[str, Any], *, threshold: float = 5.0
) -> dict[str, Any]:
    """The settings that differ, and a row per figure of each database in either run."""
    old_settings, new_settings = _settings(baseline), _settings(new)
    differ = {
        key: {"baseline": old_settings.get(key), "new": new_settings.get(key)}
        for key in sorted(set(old_settings) | set(new_settings))
        if old_settings.get(key) != new_settings.get(key)
    }
    rows: list[dict[str, Any]] = []
    databases = _databases(new) + [d for d in _databases(baseline) if d not in new]
    for database in databases:
        before = dict(flatten(baseline.get(database) or {}))
        after = dict(flatten(new.get(database) or {}))
        keys = list(after) + [k for k in before if k not in after]
        for key in keys:
            base, value = before.get(key), after.get(key)
            change = None
            numbers = not isinstance(base, bool) and not isinstance(value, bool)
            if numbers and isinstance(base, int | float) and isinstance(value, int | float):
                change = round((value - base) / abs(base) * 100, 1) if base else None
            way = direction(key)
            rows.append(
                {
                    "database": database,
                    "figure": key,
                    "baseline": base,
                    "new": value,
                    "change_pct": change,
                    "better": way,
                    "verdict": _verdict(way, base, value, change, threshold),
                }
            )
    return {"settings_differ": differ, "threshold_pct": threshold, "figures": rows}


def _shown(value: Leaf) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def render(result: Mapping[str, Any], baseline_path: Path, new_path: Path) -> str:
    """The comparison as aligned plain text, one table per database."""
    lines = [f"baseline: {baseline_path}", f"new:      {new_path}"]
    for key, pair in result["settings_differ"].items():
        lines.append(f"setting {key} differs: baseline {pair['baseline']}, new {pair['new']}")
    arrows = {"higher": "up", "lower": "down", None: ""}
    header = ("figure", "baseline", "new", "change", "better", "verdict")
    databases: dict[str, list[tuple[str, ...]]] = {}
    for row in result["figures"]:
        change = row["change_pct"]
        databases.setdefault(row["database"], []).append(
            (
                row["figure"],
                _shown(row["baseline"]),
                _shown(row["new"]),
                "" if change is None else f"{change:+.1f}%",
                arrows[row["better"]],
                row["verdict"],
            )
        )
    for database, table in databases.items():
        widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
        lines += ["", f"== {database}"]
        for cells in [header, *table]:
            left, *rest = cells
            text = left.ljust(widths[0])
            for width, cell in zip(widths[1:-1], rest[:-1], strict=True):
                text += "  " + cell.rjust(width)
            lines.append((text + "  " + rest[-1]).rstrip())
    return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("new", type=Path, help="a run's JSON (bench/pipeline.py --out FILE)")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument(
        "--threshold", type=float, default=5.0, help="a change within this %% is 'same' (5)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        baseline = json.loads(args.baseline.read_text())
        new = json.loads(args.new.read_text())
    except (OSError, ValueError) as exc:
        # Informing, not gating: a missing baseline is said, and the exit code stays 0.
        print(f"compare: cannot read the runs: {exc}", file=sys.stderr)
        if not args.baseline.exists():
            print(
                "compare: make a baseline with python bench/pipeline.py --out bench/baseline.json",
                file=sys.stderr,
            )
        return
    result = compare(baseline, new, threshold=args.threshold)
    if args.json:
        print(json.dumps({"baseline": str(args.baseline), "new": str(args.new), **result}))
    else:
        print(render(result, args.baseline, args.new))


if __name__ == "__main__":
    main(sys.argv[1:])
