"""The baseline for bench/api_latency.py: an aiohttp handler that answers `GET /api/v1/measures/{key}`
with a fixed measure of 36 months, as JSON (no token, no database)."""

from __future__ import annotations

import argparse

from aiohttp import web

MEASURE = {
    "key": "M-1", "title": "Measure 1", "description": "", "unit": {"organization": "bench organization"},
    "stage": "DI2", "currency": "EUR", "owner": "U0BENCHOWNER", "version": 1,
    "months": [{"month": f"{2026 + m // 12}-{m % 12 + 1:02d}", "plan": 10_000, "forecast": 9_000, "actual": None,
                "actual_validated": False} for m in range(36)],
}  # fmt: skip


async def measure(_request: web.Request) -> web.Response:
    return web.json_response(MEASURE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/api/v1/measures/{key}", measure)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
