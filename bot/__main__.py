"""The command line: run, run --console, check, preview."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import Config, ConfigError, load_config

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coverage-bot",
        description="Watch French, English and Russian news feeds for topics; alert Telegram.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--config", default="config.toml", metavar="PATH",
                       help="config file (default: ./config.toml)")
        return p

    run = command("run", "the service: poll feeds, match, translate, deliver")
    run.add_argument("--console", action="store_true",
                     help="print alerts to stdout instead of Telegram; needs no token")
    run.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    command("check", "validate the config and exit")
    preview = command("preview", "fetch every feed once and print what each topic matches now")
    preview.add_argument("--topic", metavar="NAME", help="only this topic")
    preview.add_argument("--json", action="store_true", help="one JSON object per line and match")
    return parser


def _fail(message: str) -> int:
    print(f"coverage-bot: {message}", file=sys.stderr)
    return EXIT_USAGE


def _load(path: str) -> Config:
    config = load_config(path)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return config


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = _load(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{args.config}: {problem}" if not problem.startswith(args.config) else problem,
                  file=sys.stderr)
        return EXIT_USAGE

    if args.command == "check":
        from bot.store.db import DatabaseError, check_database
        from bot.translation.providers import language_problems, make_provider

        problems = language_problems(make_provider(config.translation))
        try:
            check_database(config.storage.database)
        except DatabaseError as exc:
            problems.append(f"storage.database: {exc}")
        for problem in problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        if problems:
            return EXIT_USAGE
        print(f"{args.config}: OK ({len(config.feeds)} feeds, {len(config.topics)} topics)")
        return 0

    if args.command == "preview":
        from bot.preview import run_preview
        from bot.store.db import DatabaseError

        try:
            return asyncio.run(run_preview(config, topic=args.topic, as_json=args.json,
                                           out=sys.stdout))
        except KeyboardInterrupt:
            return 130
        except DatabaseError as exc:
            return _fail(str(exc))
        except ValueError as exc:  # unknown topic and the like: the user's input
            return _fail(str(exc))

    if args.command == "run":
        if not args.console and not config.bot.token:
            return _fail("no bot token: set bot.token or COVERAGE_BOT_TOKEN "
                         "(or use `run --console`)")
        logging.basicConfig(
            level=getattr(logging, str(args.log_level).upper(), logging.INFO),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        # httpx logs every request at INFO; feed polling would drown the log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # PTB's JobQueue chatter
        from bot.app import ServiceError, run_service
        from bot.store.db import DatabaseError
        from bot.store.lease import DatabaseHeld

        try:
            asyncio.run(run_service(config, console=args.console))
        except (DatabaseError, DatabaseHeld, ServiceError) as exc:
            return _fail(str(exc))
        except KeyboardInterrupt:
            pass
        return 0
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
