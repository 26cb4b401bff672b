"""`python -m parkflow ...` is the `parkflow` command."""

from parkflow.cli import main

main()
