"""``python -m app``: the same command as the ``studio-match`` console script."""

from app.cli import main

main()
