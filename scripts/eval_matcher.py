"""Evaluate the matcher on a labelled set: ``python scripts/eval_matcher.py --data ../shared/eval [--json]``.

The same as ``studio-match eval``; kept as a script so benchmarks and evaluations live side by side.
"""

from app.cli import cli

if __name__ == "__main__":
    cli(["eval", *__import__("sys").argv[1:]])
