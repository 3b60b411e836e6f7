"""`jupyter-mlops` (also `jupyter mlops`): compile and run notebook pipelines from the shell.

A thin edge over the same library the magics use, so a notebook compiles to byte-identical YAML here
and in the kernel.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..compiler import compile_yaml, plan_pipeline
from ..errors import MlopsError
from ..notebook.reader import pipeline_from_notebook


def cmd_compile(args: argparse.Namespace) -> int:
    pipeline = pipeline_from_notebook(args.notebook, args.pipeline)
    text = compile_yaml(pipeline)
    out = Path(args.output or f"{pipeline.name}.yaml")
    if str(out) == "-":
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MlopsError(f"cannot write {out}: {exc.strerror}") from None
    print(f"Compiled pipeline {pipeline.name!r} ({len(pipeline.steps)} steps) to {out}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..render.plan_text import plan_text

    print(plan_text(plan_pipeline(pipeline_from_notebook(args.notebook, args.pipeline))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter-mlops", description="Notebook cells as Kubeflow pipelines: compile, run, inspect."
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"jupyter-mlops {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compile", help="compile a notebook's pipeline to KFP IR YAML")
    p.add_argument("notebook")
    p.add_argument("-o", "--output", help="output file (default NAME.yaml; - for stdout)")
    p.add_argument("--pipeline", help="which pipeline, when the notebook defines several")
    p.set_defaults(func=cmd_compile)
    p = sub.add_parser("show", help="print a notebook pipeline's steps and data flow")
    p.add_argument("notebook")
    p.add_argument("--pipeline")
    p.set_defaults(func=cmd_show)
    from . import runs as cli_runs

    cli_runs.add_commands(sub)
    from . import schedules as schedule_cli
    from . import sweeps as sweep_cli

    sweep_cli.add_commands(sub)
    schedule_cli.add_commands(sub)
    from ..tensorboards.commands import add_command as add_tensorboard_command

    add_tensorboard_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except MlopsError as exc:
        print(f"jupyter-mlops: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
