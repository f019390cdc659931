"""Entry point: `python -m bot [serve | import FILE | export [UNIT] FILE | import-actuals FILE | tick --now T |
org NAME k=v … | governance apply FILE | governance show ORG | db upgrade]` (serve is the default)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from dotenv import load_dotenv

from slackkit.redact import install_log_redaction, redact
from slackkit.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pacekeeper, the strategy-execution Slack bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the bot (the local sandbox when SLACK_BOT_TOKEN is not set)")
    importing = commands.add_parser("import", help="create or update units and measures from a CSV or XLSX file")
    importing.add_argument("file", type=Path)
    importing.add_argument("--dry-run", action="store_true", help="say what would change, and write nothing")
    importing.add_argument(
        "--allow-unmet-criteria", action="store_true",
        help="a migration: place measures at their stage without its entry criteria (audited, flagged on the card)",
    )  # fmt: skip
    exporting = commands.add_parser("export", help="every measure (of a unit) to an XLSX or CSV file")
    exporting.add_argument("words", nargs="+", help="[the unit's name (default: every measure)] FILE")
    exporting.add_argument("--format", choices=["xlsx", "csv"], default=None, help="default: by the file's suffix")
    actuals = commands.add_parser("import-actuals", help="enter actuals from a CSV or XLSX file: key, month, actual")
    actuals.add_argument("file", type=Path)
    tick = commands.add_parser("tick", help="do, once, all the scheduled work due at an instant, then exit")
    tick.add_argument("--now", required=True, help="an ISO-8601 instant, e.g. 2027-03-08T14:00:00Z")
    org = commands.add_parser("org", help="show or change an organization's settings: org NAME key=value …")
    org.add_argument("words", nargs="*", help="the organization's name, then key=value (currency, locale, …)")
    governance = commands.add_parser("governance", help="an organization's gates, fields and KPIs (docs/governance.md)")
    governance.add_argument("action", choices=["apply", "show"])
    governance.add_argument("target", help="apply: the YAML file; show: the organization's name")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    load_dotenv()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    install_log_redaction()  # tokens and URL passwords, before the settings are even read
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"pacekeeper: configuration error: {redact(str(error))}", file=sys.stderr)
        return 2
    install_log_redaction([settings.bot_token, settings.signing_secret, settings.app_token or ""])

    if args.command == "db":
        from storage.db import upgrade

        upgrade(settings.database_url)
        print("database is up to date")
        return 0
    if args.command == "tick":
        from bot.cli import parse_instant, run_tick

        try:
            now = parse_instant(args.now)
        except ValueError:
            print(
                f"pacekeeper: --now must be an ISO-8601 instant like 2027-03-08T14:00:00Z, got {args.now!r}",
                file=sys.stderr,
            )
            return 2
        return asyncio.run(run_tick(settings, now))
    if args.command == "org":
        from bot.cli import run_org

        return run_org(settings, args.words)
    if args.command == "governance":
        from bot.cli import run_governance

        return run_governance(settings, args.action, args.target)
    if args.command == "export":
        from bot.cli import run_export

        path = Path(args.words[-1])
        file_format = args.format or ("csv" if path.suffix.lower() == ".csv" else "xlsx")
        return run_export(settings, " ".join(args.words[:-1]), file_format, path)
    if args.command == "import-actuals":
        from bot.cli import run_import_actuals

        return run_import_actuals(settings, args.file)
    if args.command == "import":
        from bot.cli import run_import

        return asyncio.run(run_import(settings, args.file, allow_unmet=args.allow_unmet_criteria, dry_run=args.dry_run))
    from bot.serve import serve

    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
