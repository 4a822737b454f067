"""`python -m orchestration.cli.entry`: the CLI without relying on the console script being on PATH."""

from orchestration.cli import main

if __name__ == "__main__":
    main()
