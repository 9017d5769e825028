"""Command line: ``python -m skfairal demo`` and ``python -m skfairal session``."""

import sys

_USAGE = """usage: python -m skfairal demo [--out DIR] [--random-state N] ...
       python -m skfairal session {init,next,add,progress} SESSION ...

  demo     fair active learning on the embedded Adult data (a table and a plot)
  session  label rows with people: export batches, add labels, see progress

Each takes --help."""


def main(argv: list[str]) -> int:
    if argv and argv[0] == "demo":
        from ._demo import main as demo

        return demo(argv[1:])
    if argv and argv[0] == "session":
        from ._session_cli import main as session

        return session(argv[1:])
    print(
        _USAGE, file=sys.stderr if argv[:1] not in (["-h"], ["--help"]) else sys.stdout
    )
    return 0 if argv[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
