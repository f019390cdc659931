"""Gate readiness under a governance policy of 20 criteria (issue 17): a pure function, timed per
measure over 10,000 measures (half of them missing something), beside today's `missing_for`.

    python -m bench.gate_readiness [--measures 10000]

Goal: <= 1 ms per measure.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import date

from domain.enums import Severity, Stage
from domain.gate_policy import GateFacts, readiness
from domain.governance import parse_governance
from domain.measure_schema import MeasureDraft
from domain.parsing import RiskLine
from domain.stage_gates import MeasureFacts, missing_for

CUSTOM = [f"field_{n}" for n in range(8)]
POLICY = parse_governance({
    "organization": "Bench",
    "portfolios": {"P": {
        "fields": [{"name": name, "label": name.replace("_", " "), "type": "text"} for name in CUSTOM],
        "gates": {
            "DI1": {"requires": ["title", "package", "owner", "sponsor", "controller", "business_unit", "function",
                                 "baseline", "target"]},
            "DI2": {"requires": ["due", "monthly_plan_sums_to_target", "risks_or_none", *CUSTOM[:4]]},
            "DI3": {"requires": ["dependencies_stated", *CUSTOM[4:]]},
            "DI5": {"requires": [{"evidence": 2}, "actuals_validated"]},
        },
    }},
}).portfolios["P"]  # fmt: skip
CRITERIA = sum(len(g.requires or ()) for g in POLICY.gates.values())

DRAFT = MeasureDraft(
    title="Consolidate suppliers", package_id=1, owner_id="U0O", sponsor_id="U0S", controller_id="U0C",
    business_unit="Consumer", function="Procurement", baseline=1_000_000, target=120_000, due=date(2027, 6, 30),
    monthly_plan={date(2027, m, 1): 10_000 for m in range(1, 13)},
    risks=[RiskLine(Severity.HIGH, "supplier delay", "second supplier")], dependencies_stated=True,
    evidence_urls=["https://example.com/a", "https://example.com/b"],
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measures", type=int, default=10_000)
    args = parser.parse_args()
    facts = [
        GateFacts(MeasureFacts(draft=replace(DRAFT, due=None) if n % 2 else DRAFT, unvalidated_months=()),
                  custom={name: "x" for name in CUSTOM[: n % 9]})
        for n in range(args.measures)
    ]  # fmt: skip
    started = time.perf_counter()
    gaps = sum(len(readiness(POLICY, Stage.DI5, f)) for f in facts)
    policy_us = (time.perf_counter() - started) / len(facts) * 1e6
    started = time.perf_counter()
    for f in facts:
        missing_for(Stage.DI5, f.measure)
    today_us = (time.perf_counter() - started) / len(facts) * 1e6
    print(f"gate readiness, {CRITERIA} criteria, {len(facts):,} measures ({gaps:,} gaps found):")
    print(f"  governance policy {policy_us:7.1f} µs per measure (goal <= 1,000)")
    print(f"  today's missing_for {today_us:5.1f} µs per measure (ratio {policy_us / today_us:.2f})")


if __name__ == "__main__":
    main()
