"""Run the Slack stand-in on its own: `python -m bot.standin --port 3001 [--rate-limit chat.postMessage=200]`."""

from __future__ import annotations

import argparse

from aiohttp import web

from bot.standin.server import SlackStandIn


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--token", default="xoxb-sandbox-token")
    parser.add_argument("--rate-limit", action="append", default=[], metavar="METHOD=PER_SECOND")
    parser.add_argument("--auto-users", action="store_true", help="accept any U… id as a user")
    parser.add_argument("--people", type=int, default=0, help="a workspace of N people: U1000000…, pN@example.com")
    args = parser.parse_args()
    standin = SlackStandIn(token=args.token)
    standin.auto_users = args.auto_users
    for n in range(args.people):
        standin.add_user(f"U{1_000_000 + n}", name=f"Person {n}", email=f"p{n}@example.com")
    standin.url = f"http://{args.host}:{args.port}"
    for limit in args.rate_limit:
        method, _, per_second = limit.partition("=")
        standin.rate_limit(method, int(per_second))
    print(f"stand-in listening on {standin.url}", flush=True)
    web.run_app(standin.app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
