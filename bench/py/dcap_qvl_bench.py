#!/usr/bin/env python3
"""Peer timing for `scripts/bench attest-tdx`: Phala's dcap-qvl (PyPI dcap-qvl 0.7.0, Rust core via PyO3)
verifying MANIFEST case T1 (quote + QuoteCollateralV3 parsed once) with `now` pinned inside T1's window.

Prints one JSON line: {"peer": "dcap-qvl-rust", "version": ..., "verify_us": median CPU microseconds per call,
"status": TCB status}. CPU time (not wall time), as bench/run.py reads Google Benchmark's cpu_time for ours.
Run with the interpreter of .venv-peers (scripts/setup creates it)."""
import calendar
import json
import os
import statistics
import sys
import time

import dcap_qvl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TDX = os.path.join(ROOT, "tests", "data", "attestation", "tdx")
NOW = "2025-06-20T00:00:00Z"  # inside T1's window [2025-06-19T10:32:27Z, 2025-07-19T10:00:35Z)
ROUNDS = 15
TARGET_ROUND_SECONDS = 0.2


def main():
    quote = open(os.path.join(TDX, "dcapqvl_tdx_quote"), "rb").read()
    collateral = dcap_qvl.QuoteCollateralV3.from_json(open(os.path.join(TDX, "dcapqvl_tdx_quote_collateral.json")).read())
    now = calendar.timegm(time.strptime(NOW, "%Y-%m-%dT%H:%M:%SZ"))
    report = dcap_qvl.verify(quote, collateral, now)
    if report.status != "UpToDate":
        sys.exit(f"dcap-qvl: T1 verified as {report.status}, expected UpToDate")
    # Calibrate the calls per round, then take the median of the rounds' per-call CPU time.
    start = time.process_time()
    calls = 0
    while time.process_time() - start < 0.05:
        dcap_qvl.verify(quote, collateral, now)
        calls += 1
    per_round = max(1, int(calls * TARGET_ROUND_SECONDS / (time.process_time() - start)))
    samples = []
    for _ in range(ROUNDS):
        t0 = time.process_time_ns()
        for _ in range(per_round):
            dcap_qvl.verify(quote, collateral, now)
        samples.append((time.process_time_ns() - t0) / per_round / 1e3)
    print(json.dumps({"peer": "dcap-qvl-rust", "version": dcap_qvl.__version__, "status": report.status,
                      "calls_per_round": per_round, "verify_us": round(statistics.median(samples), 2)}))


if __name__ == "__main__":
    main()
