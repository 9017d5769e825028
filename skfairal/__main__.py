"""Command line: ``python -m skfairal demo``."""

import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "demo":
        print("usage: python -m skfairal demo [--out DIR] [--random-state N]")
        return 2
    from ._demo import main as demo

    return demo(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
