"""`em migrate upgrade|downgrade|current|heads` against DATABASE_URL.

The operator's migration Job runs `em migrate upgrade head` and reads the resulting head from
the termination message, so `upgrade` writes it to /dev/termination-log when that exists.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from em_common import errors, migrating, settings

TERMINATION_LOG = Path(os.environ.get("EM_TERMINATION_LOG", "/dev/termination-log"))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if settings.is_placeholder(url):
        raise errors.ConfigError("DATABASE_URL is missing or a placeholder")
    return url


def _report(head: str | None) -> None:
    text = head or "base"
    print(text)
    if TERMINATION_LOG.parent.is_dir() and os.access(TERMINATION_LOG.parent, os.W_OK):
        with contextlib.suppress(OSError):
            TERMINATION_LOG.write_text(text)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="em migrate", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("upgrade", help="apply migrations up to TARGET (default head)")
    up.add_argument("target", nargs="?", default="head")
    down = sub.add_parser("downgrade", help="undo migrations down to TARGET")
    down.add_argument("target")
    down.add_argument(
        "--allow-data-loss",
        action="store_true",
        help="also undo revisions marked data_loss_on_downgrade",
    )
    sub.add_parser("current", help="print the database's revision")
    sub.add_parser("heads", help="print the code's head revision(s)")
    sub.add_parser("data-losing", help="revisions a downgrade to base would lose data through")
    args = parser.parse_args(argv)

    try:
        if args.action == "heads":
            print("\n".join(migrating.heads()))
            return 0
        url = _database_url()
        if args.action == "upgrade":
            migrating.upgrade(url, args.target)
        elif args.action == "downgrade":
            migrating.downgrade(url, args.target, allow_data_loss=args.allow_data_loss)
        elif args.action == "data-losing":
            print("\n".join(migrating.data_losing_revisions(url)))
            return 0
        _report(migrating.current(url))
        return 0
    except migrating.MigrationError as exc:
        print(f"em migrate: {exc}", file=sys.stderr)
        return 1
