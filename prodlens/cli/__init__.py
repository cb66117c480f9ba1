"""The `prodlens` command line. Each sub-command lives in its own module with a `register` function."""

from __future__ import annotations

import argparse
import errno
import gc
import sys
from collections.abc import Callable, Sequence

import duckdb

from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.interpreter import collect_less_often
from prodlens.warehouse import is_lock_error, lock_error

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad options as one line with a pointer to --help (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"prodlens: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from prodlens.cli import build, demo, load, prices, query, report, run, status

    parser = _Parser(prog="prodlens", description="ProdLens: analytics for AI-assisted software development.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for module in (load, build, query, demo, report, run, status, prices):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `prodlens build -- --select x` : everything after `--` goes to dbt untouched.
    passthrough: list[str] = []
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, passthrough = args_list[:cut], args_list[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(args_list)
    args.passthrough = passthrough
    handler: Handler = args.handler
    try:
        return handler(args)
    except UserError as exc:
        print(f"prodlens: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except duckdb.IOException as exc:
        if is_lock_error(exc):
            locked = lock_error(Home.from_env().warehouse, exc)
            print(f"prodlens: error: {locked}", file=sys.stderr)
            return locked.exit_code
        if _NO_SPACE in str(exc):
            return _disk_full(str(exc).splitlines()[0])
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return _disk_full(str(exc))
        raise
    except KeyboardInterrupt:
        print("prodlens: interrupted", file=sys.stderr)
        return 130


def console() -> None:
    """The `prodlens` command (and `python -m prodlens.cli`): main() in a process tuned for one command.

    The collector runs less often (prodlens.interpreter), and at exit every object is frozen first so that the
    interpreter's final collection skips them: ~0.5 s less at every exit after dbt and dlt were loaded.
    atexit handlers and buffered output still run and flush as usual."""
    collect_less_often()
    code = main()
    gc.freeze()
    sys.exit(code)


_NO_SPACE = "No space left on device"


def _disk_full(detail: str) -> int:
    print(
        f"prodlens: error: the disk is full ({detail}); free space under {Home.from_env().root} and run again "
        "(nothing is lost: the next run resumes)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
