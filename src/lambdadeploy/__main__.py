"""`python -m lambdadeploy` runs the CLI."""

from .cli import main

main()
