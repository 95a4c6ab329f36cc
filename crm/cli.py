"""The `crm` command: migrate, serve, user add, token create/revoke, import, export, backup, restore, rollups
rebuild, bench, demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from crm.settings import ConfigError, Settings


def _connect() -> Settings:
    from crm import db

    settings = Settings.from_env()
    db.bind(db.make_engine(settings.database))
    return settings


async def _with_engine(coro):
    from crm import db, wiring

    wiring.connect()  # every command that runs services runs it through here
    await db.start(db.engine(), pool=False)
    try:
        return await coro
    finally:
        await db.stop(db.engine())


def cmd_migrate(args: argparse.Namespace) -> int:
    from crm.migrate import migrate

    _connect()
    applied = asyncio.run(_with_engine(migrate()))
    print(f"Migrations applied: {len(applied)}" + (f" ({', '.join(applied)})" if applied else " (already up to date)"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    Settings.from_env()  # fail fast, in the parent, with one clear line
    # Client addresses drive login throttling and the audit log: X-Forwarded-For is believed only from the
    # proxies named here, never by default (anyone could send it).
    proxies = args.forwarded_allow_ips
    uvicorn.run(
        "crm.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )
    return 0


def _read_password() -> str:
    if os.environ.get("CRM_PASSWORD"):
        return os.environ["CRM_PASSWORD"]
    if not sys.stdin.isatty():
        raise SystemExit("crm: error: set CRM_PASSWORD or run in a terminal to be asked for the password")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise SystemExit("crm: error: the two passwords do not match")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    from crm.accounts import service
    from crm.audit.service import Actor
    from crm.clock import utc_now

    _connect()
    password = _read_password()
    created = asyncio.run(
        _with_engine(
            service.create_user(
                email=args.email,
                name=args.name or args.email.split("@")[0],
                role=args.role,
                password=password,
                actor=Actor.system("cli"),
                now=utc_now(),
            )
        )
    )
    print(f"Added {created['email']} as {created['role']} (id {created['id']}).")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from crm.accounts import tokens
    from crm.audit.service import Actor
    from crm.clock import utc_now

    _connect()
    _, token = asyncio.run(
        _with_engine(tokens.create_token(email=args.email, label=args.label, actor=Actor.system("cli"), now=utc_now()))
    )
    print(token)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from crm.accounts import tokens
    from crm.audit.service import Actor
    from crm.clock import utc_now

    _connect()
    asyncio.run(_with_engine(tokens.revoke_token(token_id=args.token_id, actor=Actor.system("cli"), now=utc_now())))
    print(f"Revoked token {args.token_id}.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from crm.demo import load_demo

    _connect()
    report = asyncio.run(_with_engine(load_demo()))
    for line in report:
        print(line)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from crm.clock import utc_now
    from crm.errors import InvalidInput
    from crm.imports import console

    _connect()
    try:
        return asyncio.run(_with_engine(console.run(args, clock=utc_now)))
    except InvalidInput as exc:  # a refused file or mapping: one line, no traceback
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items() if v != exc.message)
        print(f"crm: error: {exc.message}" + (f" ({details})" if details else ""), file=sys.stderr)
        return 1


async def _export_to(path: Path, kind: str, bom: bool) -> int:
    from crm.audit.service import Actor
    from crm.clock import utc_now
    from crm.exports import service
    from crm.members.queries import MemberFilter

    chunks = await service.export_csv(
        kind=kind, filters=MemberFilter(), actor=Actor.system("cli"), now=utc_now(), bom=bom
    )
    # Written beside the target and renamed at the end: an export that fails half-way leaves no half file.
    part = path.with_name(path.name + ".part")
    size = 0
    try:
        with part.open("wb") as handle:
            async for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return size


def cmd_export(args: argparse.Namespace) -> int:
    _connect()
    size = asyncio.run(_with_engine(_export_to(args.file, args.kind, args.bom)))
    print(f"Exported every {args.kind[:-1]} to {args.file} ({size:,} bytes).")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from crm.exports import backup

    settings = Settings.from_env()
    backup.backup(settings.database, args.file)
    print(f"Backed up the {settings.database.engine} database to {args.file} ({args.file.stat().st_size:,} bytes).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from crm.exports import backup

    settings = Settings.from_env()
    asyncio.run(backup.restore(settings.database, args.file))
    print(f"Restored {args.file} into the {settings.database.engine} database.")
    print("Run `crm migrate` next: it applies what this version adds, if the backup is older.")
    return 0


def cmd_rollups_rebuild(args: argparse.Namespace) -> int:
    from crm.incidents import conversation
    from crm.members.bulk import rebuild_all

    async def rebuild() -> tuple[int, int]:
        return await rebuild_all(), await conversation.rebuild_all()

    _connect()
    count, rows = asyncio.run(_with_engine(rebuild()))
    print(f"Rebuilt the engagement rollup of {count} members from the interaction log.")
    print(f"Rebuilt the incidents' conversation rollup ({rows} member and incident pairs).")
    return 0


def cmd_bench_generate(args: argparse.Namespace) -> int:
    from crm.bench.console import GenerateProgress
    from crm.bench.generate import generate
    from crm.clock import utc_now

    _connect()
    with GenerateProgress() as progress:
        made = asyncio.run(
            _with_engine(
                generate(
                    members=args.members,
                    interactions=args.interactions,
                    seed=args.seed,
                    faq_entries=args.faq,
                    now=utc_now(),
                    force=args.force,
                    progress=progress,
                )
            )
        )
    print(
        f"Generated {made.members:,} members, {made.interactions:,} interactions, {made.incidents} incidents "
        f"(incident {made.current_incident} being handled), {made.briefings} briefings, {made.thanks} thank-yous "
        f"and {made.faq_entries:,} FAQ entries."
    )
    return 0


def cmd_bench_run(args: argparse.Namespace) -> int:
    from crm.bench.run import run

    settings = _connect()
    return asyncio.run(_with_engine(run(args, settings=settings)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm", description="Advocate CRM. Configuration comes from CRM_* environment variables (see README)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply all database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="serve the web app under uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--forwarded-allow-ips",
        default="",
        metavar="IPS",
        help="comma-separated addresses of your reverse proxies; X-Forwarded-For from them gives "
        "the client's address (default: trust no proxy)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("user", help="manage users")
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    p = user_sub.add_parser("add", help="add a user (password from CRM_PASSWORD or asked twice)")
    p.add_argument("email")
    p.add_argument("--role", required=True, choices=["admin", "manager", "agent", "viewer"])
    p.add_argument("--name")
    p.set_defaults(func=cmd_user_add)

    p = sub.add_parser("token", help="manage API tokens")
    token_sub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    p = token_sub.add_parser("create", help="print a new API token for a user")
    p.add_argument("email")
    p.add_argument("--label", default="")
    p.set_defaults(func=cmd_token_create)
    p = token_sub.add_parser("revoke", help="revoke an API token by its id (see Admin → API tokens)")
    p.add_argument("token_id", type=int)
    p.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser("import", help="import members or interactions from a CSV file (see README)")
    p.add_argument("kind", choices=["members", "interactions"], help="what the file holds")
    p.add_argument("file", type=Path, help="the CSV file")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--preset", choices=["twitter-airline", "crm"], help="a built-in mapping")
    how.add_argument("--mapping", metavar="NAME", default="", help="a mapping saved with --save-mapping")
    p.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    p.add_argument("--platform", default="", help="the platform, when the file has no platform column")
    p.add_argument("--encoding", choices=["utf-8", "cp1252", "latin-1"], default=None)
    p.add_argument("--date-format", default="", help='"iso" or a strftime format such as %%d/%%m/%%Y %%H:%%M')
    p.add_argument("--zone", default="", help="zone of times without an offset (IANA name or +HH:MM)")
    p.add_argument("--delimiter", default="", help="a comma, semicolon, tab or | (guessed by default)")
    p.add_argument("--save-mapping", metavar="NAME", default="", help="save the mapping used under NAME")
    p.add_argument("--rejected", metavar="CSV", type=Path, help="write the rejected rows (and why) to CSV")
    p.add_argument("--batch-size", type=int, default=1000, metavar="N", help="rows per transaction")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export every member or interaction as CSV (the crm import preset's format)")
    p.add_argument("kind", choices=["members", "interactions"], help="what to export")
    p.add_argument("file", type=Path, help="the CSV file to write (replaced if it exists)")
    p.add_argument("--bom", action="store_true", help="start with a UTF-8 byte-order mark, for Excel")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("backup", help="copy the whole database to FILE, consistent while the app runs (see README)")
    p.add_argument("file", type=Path, help="the backup file to write (replaced if it exists)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup FILE into an empty database")
    p.add_argument("file", type=Path, help="a file crm backup wrote")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("rollups", help="engagement rollups")
    rollup_sub = p.add_subparsers(dest="rollups_command", required=True, metavar="ACTION")
    p = rollup_sub.add_parser("rebuild", help="recompute every member's rollup from the interaction log")
    p.set_defaults(func=cmd_rollups_rebuild)

    p = sub.add_parser("bench", help="the benchmark: generate a community, time the main requests (see README)")
    bench_sub = p.add_subparsers(dest="bench_command", required=True, metavar="ACTION")
    p = bench_sub.add_parser("generate", help="write a generated community into an empty database")
    p.add_argument("--members", type=int, required=True, metavar="N")
    p.add_argument("--interactions", type=int, required=True, metavar="M")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="the same seed gives the same community")
    p.add_argument("--faq", type=int, default=None, metavar="N", help="FAQ entries (default: members / 10)")
    p.add_argument("--force", action="store_true", help="empty a database that is not empty first")
    p.set_defaults(func=cmd_bench_generate)
    p = bench_sub.add_parser("run", help="time the main pages and APIs against their floors")
    p.add_argument("--size", choices=["S", "M", "L"], default="S", help="generated when the database is empty")
    p.add_argument("--members", type=int, default=None, metavar="N", help="instead of --size's")
    p.add_argument("--interactions", type=int, default=None, metavar="M", help="instead of --size's")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=20, help="requests per round")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the results as JSON")
    p.add_argument("--only", default="", metavar="NAMES", help="comma-separated request names (default: all)")
    p.add_argument("--skip-rebuild", action="store_true", help="do not time `crm rollups rebuild`")
    p.set_defaults(func=cmd_bench_run)

    p = sub.add_parser("demo", help="load the demo data (safe to run twice)")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    from crm.errors import DomainError

    args = build_parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print("crm: error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"crm: configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        print(f"crm: error: {exc.message}" + (f" ({details})" if details else ""), file=sys.stderr)
        return 1
    except OSError as exc:  # refused connection, unreachable host, unwritable file
        print(f"crm: error: cannot reach the database or a file it needs: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
