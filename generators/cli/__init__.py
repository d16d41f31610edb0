"""The ``mlmon`` command line. One module per command (Sloth style); each defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes: 0 ok, 1 a check failed or a file could not be read or written (disk full, read-only, permission
denied: the message names the path), 2 bad usage, an invalid catalog or an ``--out`` mlmon may not replace;
70 only for an mlmon bug. User errors never print a traceback
(set ``MLMON_DEBUG=1`` to see one for an internal error).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from ..errors import CatalogError

COMMANDS = ("render", "check", "thresholds", "remediations", "diff", "runbooks", "plan", "backtest")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage: printed as ``mlmon: error: ...``, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code is 2 too; keep its usage line
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlmon",
        description="Monitoring-as-code for ML services: one reviewed catalog (alerts/*.yaml) rendered into "
                    "Prometheus rules, promtool tests, Kubernetes manifests, Grafana dashboards and CloudWatch alarms.",
        epilog="Exit codes: 0 ok, 1 check failed or a file could not be read or written, 2 bad usage, invalid "
               "catalog or an --out mlmon may not replace, 70 an mlmon bug. "
               "Run 'mlmon COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"mlmon {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        p.add_argument("--catalog", default="alerts", metavar="DIR",
                       help="catalog directory (default: ./alerts)")
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def load(args):
    """Load the catalog named by ``--catalog`` (raises CatalogError)."""
    from ..loader import load_catalog

    return load_catalog(args.catalog)


def protected(catalog) -> tuple[str, ...]:
    """What an ``--out`` may never replace, contain or sit inside: the catalog directory, its dashboards and
    hand-written runbooks (:func:`generators.output.write_tree`)."""
    from ..grafana.sources import dashboards_dir
    from ..handwritten_runbooks import handwritten_dir

    return (str(catalog.root), str(dashboards_dir(catalog.root)), str(handwritten_dir(catalog)))


def check_env(catalog, env: str | None) -> list[str]:
    envs = list(catalog.defaults.environments)
    if env is None:
        return envs
    if env not in envs:
        raise UsageError(f"unknown environment {env!r}; the catalog defines {', '.join(envs)}")
    return [env]


def check_services(catalog, names: list[str] | None) -> list[str] | None:
    if not names:
        return None
    known = {s.service for s in catalog.services}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown service {', '.join(unknown)}; the catalog has {', '.join(sorted(known))}")
    return names


def main(argv: list[str] | None = None) -> int:
    from ..output import OutputFailed, OutputRefused

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except CatalogError as exc:
        print(exc.format(), file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, OutputRefused) as exc:
        print(f"mlmon: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutputFailed as exc:
        print(f"mlmon: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # the environment, not mlmon: a path that cannot be read or written
        where = exc.filename if exc.filename is not None else "a file"
        print(f"mlmon: error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # an mlmon bug: say so plainly, without a traceback unless asked
        if os.environ.get("MLMON_DEBUG"):
            raise
        print(f"mlmon: internal error: {exc.__class__.__name__}: {exc} (set MLMON_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 70


def entrypoint() -> None:
    sys.exit(main())
