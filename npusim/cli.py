"""The `npusim` command.

    npusim doctor               check every real toolchain component
    npusim config show [NAME]   print a validated NPU config (default: $NPUSIM_CONFIG or the default)
    npusim config check FILE    validate a config file
    npusim config list          the shipped configs
    npusim config schema        every knob of the schema with its meaning and bounds
    npusim report ...           build reports          (reports.cli.report_main)
    npusim diff ...             diff against a baseline (reports.cli.diff_main)
    npusim nightly ...          the nightly job         (harness.nightly.main)
    npusim faults ...           the fault catalogue     (harness.faults.main)

report, diff and nightly pass their arguments through untouched; their
modules are imported only when called, so the rest works without them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

import yaml

from npusim import __version__
from npusim import config as npu_config

# subcommand -> (module, function, what it is); each takes argv and returns an exit status.
DELEGATED = {
    "report": ("reports.cli", "report_main", "build the reports of a run"),
    "diff": ("reports.cli", "diff_main", "diff a run against a baseline"),
    "nightly": ("harness.nightly", "main", "the nightly job: default suite on the default config, reports written"),
    "faults": ("harness.faults", "main", "seeded faults on scratch copies: which the harness catches, and by which check"),
}


class CommandUnavailable(RuntimeError):
    pass


def _load_delegate(command: str) -> Callable[[list[str]], int | None]:
    module_name, function_name, _ = DELEGATED[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the delegate module itself being absent is "not available";
        # an import error inside it is a bug and propagates with its traceback.
        parts = module_name.split(".")
        if exc.name not in {".".join(parts[: i + 1]) for i in range(len(parts))}:
            raise
        raise CommandUnavailable(
            f"npusim {command}: {module_name} is not available ({exc}); "
            f"this command needs {module_name}.{function_name} from the repository"
        ) from exc
    function = getattr(module, function_name, None)
    if function is None:
        raise CommandUnavailable(f"npusim {command}: {module_name} has no {function_name}()")
    return function


def _config_show(args: argparse.Namespace) -> int:
    cfg = npu_config.load(args.name)
    print(f"# {cfg.name}: {cfg.path}")
    print(yaml.safe_dump(cfg.data, sort_keys=False, width=1000), end="")
    return 0


def _config_check(args: argparse.Namespace) -> int:
    status = 0
    for file in args.files:
        try:
            cfg = npu_config.load(file)
        except npu_config.ConfigError as exc:
            print(f"invalid: {exc}", file=sys.stderr)
            status = 1
        else:
            print(f"ok: {cfg.path} ({cfg.name})")
    return status


def _config_list(_: argparse.Namespace) -> int:
    default = npu_config.resolve_path(None)
    for path in sorted(npu_config.CONFIGS_DIR.glob("*.yaml")):
        mark = "*" if path == default else " "
        try:
            description = npu_config.load(path).data["description"]
        except npu_config.ConfigError as exc:
            description = f"INVALID: {exc}"
        print(f"{mark} {path.stem:<16} {description}")
    return 0


def _config_schema(_: argparse.Namespace) -> int:
    for section, fields in npu_config.SCHEMA.items():
        for key, field in fields.items():
            bounds = ""
            if field.min is not None or field.max is not None:
                bounds = f" [{field.min if field.min is not None else ''}..{field.max if field.max is not None else ''}]"
            name = f"{section}.{key}" if section else key
            print(f"{name:<28} {field.type.__name__:<6}{bounds:<20} {field.doc}")
    return 0


def _doctor(_: argparse.Namespace) -> int:
    from npusim import doctor  # imports torch and mlir: only when asked

    return doctor.run()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="npusim", description="npusim: NPU toolchain verification harness")
    parser.add_argument("--version", action="version", version=f"npusim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    doctor = commands.add_parser("doctor", help="check every real toolchain component")
    doctor.set_defaults(func=_doctor)

    cfg = commands.add_parser("config", help="show or check NPU configs")
    cfg_commands = cfg.add_subparsers(dest="config_command", metavar="ACTION")
    cfg_commands.required = True
    show = cfg_commands.add_parser("show", help="print a validated config (name or path)")
    show.add_argument("name", nargs="?", help="config name or YAML path (default: $NPUSIM_CONFIG or the default)")
    show.set_defaults(func=_config_show)
    check = cfg_commands.add_parser("check", help="validate config files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=_config_check)
    cfg_commands.add_parser("list", help="the shipped configs (* = selected)").set_defaults(func=_config_list)
    cfg_commands.add_parser("schema", help="every knob with its type, bounds, meaning").set_defaults(func=_config_schema)

    # Listed for --help only: main() hands their arguments over before parsing.
    for name, (module, function, help_text) in DELEGATED.items():
        commands.add_parser(name, help=f"{help_text} ({module}.{function})", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        try:
            function = _load_delegate(argv[0])
        except CommandUnavailable as exc:
            print(exc, file=sys.stderr)
            return 2
        return int(function(argv[1:]) or 0)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except npu_config.ConfigError as exc:
        print(f"npusim: config error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
