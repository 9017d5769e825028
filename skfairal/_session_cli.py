"""``python -m skfairal session``: the labeling loop over CSV files.

    python -m skfairal session init s.skfal --pool pool.csv --id-column id \\
        --sensitive sex --classes no yes --strategy falcon
    python -m skfairal session next s.skfal -n 20 --out batch1.csv
    python -m skfairal session add s.skfal batch1.csv      # once filled in
    python -m skfairal session progress s.skfal --plot progress.png

Exit status: 0 on success, 1 when the files or labels are wrong (the message
says what to fix; nothing has changed), 2 for a wrong command line.
"""

import argparse
import contextlib
import sys
import time
from pathlib import Path

_EPILOG = """\
The session file holds the whole state (pool, labels, rows out for labeling,
learner); every command reads it and writes it back atomically.
Exit status: 0 done, 1 wrong files or labels (nothing changed), 2 wrong usage.
"""


def _strategy(name: str, params: list[str] | None):
    """The strategy ``name`` with ``KEY=VALUE`` parameters (values read as JSON
    where they parse: ``lam=0.5``, ``metric=equalized_odds``)."""
    import json

    from .query import available_strategies, get_strategy

    if name not in available_strategies():
        raise ValueError(
            f"--strategy {name!r} is not a known strategy; choose one of "
            f"{available_strategies()}."
        )
    strategy = get_strategy(name)
    if not params:
        return name
    if not hasattr(strategy, "set_params"):
        raise ValueError(f"--strategy {name!r} takes no parameters (--param).")
    values = {}
    for param in params:
        key, sep, text = param.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {param!r} is not KEY=VALUE.")
        try:
            values[key] = json.loads(text)
        except ValueError:
            values[key] = text
    strategy.set_params(**values)
    # Checked now, not at the first fit days later.
    strategy._validate_params()
    return strategy


def tabular_learner(strategy, random_state: int | None):
    """The command line's learner: one-hot text columns, scaled numbers, and a
    logistic regression, missing values imputed."""
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from .active import FairActiveClassifier

    encode = make_column_transformer(
        (
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore"),
            ),
            make_column_selector(dtype_exclude="number"),
        ),
        (
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
            make_column_selector(dtype_include="number"),
        ),
    )
    return FairActiveClassifier(
        make_pipeline(encode, LogisticRegression(max_iter=1000)),
        strategy,
        random_state=random_state,
    )


def _read_table(path: Path, id_column: str | None, what: str):
    import pandas as pd

    try:
        dtype = {id_column: str} if id_column else None
        return pd.read_csv(path, dtype=dtype)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{what} {str(path)!r} is not a readable CSV file: {e}") from e


def _init(args) -> str:
    from .active import LabelingSession

    if args.session.exists() and not args.force:
        raise ValueError(
            f"{str(args.session)!r} exists already; pass --force to start over "
            "(its labels would be lost)."
        )
    strategy = _strategy(args.strategy, args.param)
    pool = _read_table(args.pool, args.id_column, "--pool")
    validation = None
    if args.validation is not None:
        validation = _read_table(args.validation, None, "--validation")
    features = None
    if args.drop:
        unknown = [c for c in args.drop if c not in pool.columns]
        if unknown:
            raise ValueError(f"--drop names columns {unknown} not in the pool.")
        features = [c for c in pool.columns if c not in {args.id_column, *args.drop}]
    session = LabelingSession(
        tabular_learner(strategy, args.random_state),
        pool,
        classes=_classes(args.classes),
        sensitive_features=args.sensitive,
        id_column=args.id_column,
        features=features,
        validation=validation,
        label_column=args.label_column,
        random_state=args.random_state,
    )
    session.save(args.session)
    return (
        f"started {args.session}: {len(pool)} rows to label, classes "
        f"{session.classes}, strategy {strategy}. Next: python -m skfairal "
        f"session next {args.session} -n 20 --out batch.csv"
    )


def _classes(values: list[str]) -> list:
    """Numbers when every class reads as an integer, else the text."""
    try:
        return [int(v) for v in values]
    except ValueError:
        return values


def _load(args):
    from .active import LabelingSession

    return LabelingSession.load(args.session, trusted=args.trust)


def _next(args) -> str:
    session = _load(args)
    batch = session.next_batch(args.n, include_out=args.include_out)
    if args.format == "label-studio":
        session.to_label_studio(batch, args.out)
        config = args.out.with_suffix(".config.xml")
        config.write_text(session.label_studio_config())
        how = f"import it into Label Studio (labeling config: {config})"
    else:
        session.to_csv(batch, args.out)
        how = f"fill in its {session.label_column!r} column"
    try:
        session.save(args.session)
    except BaseException:
        # The rows were not marked out: no file may look handed out.
        args.out.unlink(missing_ok=True)
        if args.format == "label-studio":
            config.unlink(missing_ok=True)
        raise
    return (
        f"wrote {len(batch)} rows to {args.out}; {how}, then: python -m skfairal "
        f"session add {args.session} {args.out}"
        + (" --format label-studio" if args.format == "label-studio" else "")
    )


def _add(args) -> str:
    session = _load(args)
    if args.format == "label-studio":
        labels = session.read_label_studio_export(args.labels, conflicts=args.conflicts)
    else:
        labels = session.read_labels_csv(args.labels)
    if labels.empty:
        raise ValueError(
            f"{str(args.labels)!r} has no labels yet: every row's "
            f"{session.label_column!r} is empty."
        )
    try:
        session.add_labels(labels, allow_unrequested=args.allow_unrequested)
    except ValueError as exc:
        # The command line's name for the option.
        message = str(exc).replace("allow_unrequested=True", "--allow-unrequested")
        raise ValueError(message) from exc
    session.save(args.session)
    fitted = (
        ""
        if session.learner_ is not None
        else " (the learner waits for a second class)"
    )
    return (
        f"added {len(labels)} labels: {session.n_labeled} labeled, "
        f"{len(session.out_ids)} still out for labeling{fitted}."
    )


def _progress(args) -> str:
    session = _load(args)
    table = session.progress()
    if table.empty:
        return f"{session!r}\nno labels yet."
    text = f"{session!r}\n" + table.drop(columns=["time"]).round(3).to_string(
        index=False
    )
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        session.plot_progress().savefig(args.plot, dpi=120)
        text += f"\nplot written to {args.plot}"
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m skfairal session",
        description="Fair active learning with people labeling the rows: export "
        "batches, add the labels back, follow the progress.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name, help_, func):
        sub = verbs.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("session", type=Path, help="the session file (.skfal)")
        sub.set_defaults(func=func)
        if name != "init":
            sub.add_argument(
                "--trust", action="append", metavar="TYPE", default=None,
                help="a type the session file may hold beyond scikit-learn's and "
                "skfairal's (repeatable); only for files you trust",
            )  # fmt: skip
        return sub

    init = verb("init", "start a session over a pool CSV file", _init)
    init.add_argument("--pool", type=Path, required=True, help="the rows to label")
    init.add_argument("--classes", nargs="+", required=True, help="every label")
    init.add_argument("--id-column", help="column of row ids (default: row number)")
    init.add_argument("--sensitive", nargs="+", help="column(s) of the groups")
    init.add_argument("--strategy", default="entropy", help="default: entropy")
    init.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="a parameter of the strategy (repeatable): --strategy falcon "
        "--param lam=0.5",
    )
    init.add_argument("--drop", nargs="+", help="columns the model must not see")
    init.add_argument("--validation", type=Path, help="labeled rows to score on")
    init.add_argument("--label-column", default="label", help="default: label")
    init.add_argument("--random-state", type=int, default=0, help="default: 0")
    init.add_argument("--force", action="store_true", help="overwrite SESSION")

    nxt = verb("next", "export the next batch of rows to label", _next)
    nxt.add_argument("-n", type=int, default=20, help="rows (default: 20)")
    nxt.add_argument("--out", type=Path, required=True, help="file to write")
    nxt.add_argument("--format", choices=("csv", "label-studio"), default="csv")
    nxt.add_argument(
        "--include-out",
        action="store_true",
        help="rows already out for labeling may be handed out again",
    )

    add = verb("add", "add labels from a filled-in file and update the model", _add)
    add.add_argument("labels", type=Path, help="CSV file, or Label Studio JSON export")
    add.add_argument("--format", choices=("csv", "label-studio"), default="csv")
    add.add_argument(
        "--allow-unrequested",
        action="store_true",
        help="accept labels of rows never handed out",
    )
    add.add_argument(
        "--conflicts",
        choices=("error", "latest", "majority"),
        default="error",
        help="Label Studio: what to do when annotators disagree",
    )

    prog = verb("progress", "print the per-round progress table", _progress)
    prog.add_argument("--plot", type=Path, help="also write the figure (PNG)")
    return parser


# How long a command waits for another one on the same session file.
LOCK_WAIT_SECONDS = 60.0


@contextlib.contextmanager
def _locked(session: Path):
    """Hold ``.<session>.lock`` for the command: two commands on one session
    file would each read it, and the last to write would drop the other's
    change."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks here
        yield
        return
    lock = session.with_name(f".{session.name}.lock")
    with open(lock, "a") as file:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ValueError(
                        f"another command has held {str(session)!r} for "
                        f"{LOCK_WAIT_SECONDS:.0f} s; try again when it is done."
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from .active import SessionFileError

    try:
        if not args.session.parent.is_dir():
            raise FileNotFoundError(2, "No such directory", str(args.session.parent))
        with _locked(args.session):
            print(args.func(args))
    except (ValueError, TypeError, KeyError, SessionFileError, OSError) as exc:
        message = str(exc)
        if isinstance(exc, OSError) and exc.filename and exc.strerror:
            message = f"{exc.strerror}: {exc.filename}"
        print(
            f"python -m skfairal session {args.verb}: error: {message}", file=sys.stderr
        )
        return 1
    return 0
