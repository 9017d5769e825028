"""LabelingSession: batches out to the people who label them, labels back in."""

from collections.abc import Mapping, Sequence
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..utils import import_optional, is_missing, take_rows
from ._classifier import FairActiveClassifier
from ._session_files import SessionFilesMixin, pool_ids
from ._session_progress import round_record
from ._simulation import _MAX_SEED, round_seed

# Ids named in an error message, at most.
_SHOW = 10


def _pandas():
    return import_optional("pandas", purpose="LabelingSession", extra="session")


def _shown(ids) -> str:
    ids = list(ids)
    text = ", ".join(repr(i) for i in ids[:_SHOW])
    return f"{text}, ... ({len(ids)} in all)" if len(ids) > _SHOW else text


class LabelingSession(SessionFilesMixin):
    """An active-learning loop with people as the oracle, kept between sittings.

    The session owns a copy of ``learner`` and a pool of rows with stable ids.
    :meth:`next_batch` hands out the rows to label (marked "out for labeling"
    so that they are not handed out twice), :meth:`add_labels` takes the
    labels back whenever they come, checks them all, and teaches the learner.
    Until the labels hold two classes the learner cannot be fitted, so the
    first batches are drawn at random. :meth:`~LabelingSession.save` and
    :meth:`~LabelingSession.load` keep the whole state in one file, without
    pickles.

    Parameters
    ----------
    learner : FairActiveClassifier
        The active learner to use, unfitted; the session fits a copy
        (``learner_``) on the labels it collects, its ``random_state`` giving
        the queries' seeds.
    pool : pandas.DataFrame
        The rows to label, with the columns the learner's estimator takes.
    classes : sequence
        Every label an annotator may give. A label outside them is refused;
        a label whose text matches one (``"1"`` for ``1``, as read from a
        CSV file) is taken as that class.
    sensitive_features : str, list of str or None, default=None
        The pool's column(s) holding the groups, for fairness-aware
        strategies and the progress table. They must have no missing values.
    id_column : str or None, default=None
        The pool's column holding the row ids; None uses the pool's index.
        Ids must be unique and not missing.
    features : list of str or None, default=None
        The columns the learner sees; None means every column but
        ``id_column``.
    validation : pandas.DataFrame or None, default=None
        Labeled rows to score the learner on after each round: the pool's
        feature and sensitive columns, and the labels in ``label_column``.
    label_column : str, default="label"
        The column of labels in exported batches, label files and
        ``validation``.
    pos_label : object or None, default=None
        The positive class of the fairness metrics (binary problems); None
        means the last of the sorted ``classes``.
    random_state : int, RandomState instance or None, default=None
        Seeds the random batches before the first fit.

    Attributes
    ----------
    learner_ : FairActiveClassifier or None
        The fitted learner; None until the labels hold two classes.
    history_ : list of dict
        One entry per :meth:`add_labels` call; :meth:`progress` shows them.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.active import LabelingSession
    >>> from skfairal.datasets import make_biased_classification
    >>> X, y, g = make_biased_classification(300, random_state=0)
    >>> pool = pd.DataFrame(X).add_prefix("x").assign(group=g)
    >>> pool.index = [f"row{i}" for i in range(300)]
    >>> session = LabelingSession(
    ...     FairActiveClassifier(random_state=0),
    ...     pool,
    ...     classes=[0, 1],
    ...     sensitive_features="group",
    ...     random_state=0,
    ... )
    >>> batch = session.next_batch(20)
    >>> answers = pd.Series(y[pool.index.get_indexer(batch.index)], index=batch.index)
    >>> session = session.add_labels(answers)
    >>> session.n_labeled, len(session.next_batch(5))
    (20, 5)
    """

    def __init__(
        self,
        learner: FairActiveClassifier,
        pool,
        *,
        classes: Sequence,
        sensitive_features: str | list[str] | None = None,
        id_column: str | None = None,
        features: list[str] | None = None,
        validation=None,
        label_column: str = "label",
        pos_label=None,
        random_state=None,
    ):
        pd = _pandas()
        if not isinstance(learner, FairActiveClassifier):
            raise TypeError(
                f"learner must be a FairActiveClassifier, got {type(learner).__name__}."
            )
        if not isinstance(pool, pd.DataFrame):
            raise TypeError(
                f"pool must be a pandas DataFrame, got {type(pool).__name__}."
            )
        if len(pool) == 0:
            raise ValueError("pool is empty: a session needs rows to label.")
        classes = self._check_classes(classes)
        if id_column is not None and id_column not in pool.columns:
            raise ValueError(f"id_column {id_column!r} is not a column of pool.")
        ids = pool_ids(pool, id_column)
        if ids.hasnans:
            where = f"id_column {id_column!r}" if id_column else "the pool's index"
            raise ValueError(
                f"the ids ({where}) have missing values; every row needs an id."
            )
        if not ids.is_unique:
            raise ValueError(
                f"the ids are not unique: {_shown(ids[ids.duplicated()].unique())} "
                "appear more than once."
            )
        sensitive = self._check_columns(sensitive_features, pool, "sensitive_features")
        if sensitive is not None and pool[sensitive].isna().to_numpy().any():
            raise ValueError(
                f"sensitive_features {sensitive} have missing values; every row "
                "needs its group."
            )
        if sensitive is not None and len(pool[sensitive].drop_duplicates()) < 2:
            raise ValueError(
                f"sensitive_features {sensitive} hold one group only; fairness "
                "needs two groups at least (or pass sensitive_features=None)."
            )
        if features is None:
            features = [c for c in pool.columns if c != id_column]
        features = self._check_columns(features, pool, "features")
        if not features:
            raise ValueError("features is empty: the learner needs columns to see.")
        if label_column in features:
            raise ValueError(
                f"pool has a column {label_column!r}, the label_column: drop it "
                "from the pool (or from features) and give the labels you have "
                "with add_labels(..., allow_unrequested=True)."
            )
        if pos_label is not None and pos_label not in classes:
            raise ValueError(
                f"pos_label {pos_label!r} is not one of classes {classes}."
            )
        self.learner = learner
        # A copy: the session outlives the caller's frame, which may change.
        self.pool = pool.copy()
        self.classes = classes
        self.sensitive_features = sensitive
        self.id_column = id_column
        self.features = features
        self.label_column = label_column
        self.pos_label = classes[-1] if pos_label is None else pos_label
        self.validation = None
        if validation is not None:
            self._check_validation(validation)
            self.validation = validation.copy()
        self._seed = int(check_random_state(random_state).randint(_MAX_SEED))
        self._ids = ids
        self.learner_ = None
        self.history_ = []
        self._labeled = []  # positions into pool, in labeling order
        self._labels = []
        self._out = {}  # position -> batch number
        self._n_batches = 0

    # -- checks ---------------------------------------------------------------

    @staticmethod
    def _check_classes(classes) -> list:
        if isinstance(classes, str) or not isinstance(classes, Sequence | np.ndarray):
            raise TypeError(f"classes must be a list of the labels, got {classes!r}.")
        classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
        if len(classes) < 2:
            raise ValueError(f"classes needs at least two labels, got {classes}.")
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes has duplicates: {classes}.")
        if any(is_missing(c) for c in classes):
            raise ValueError(f"classes has a missing value: {classes}.")
        text = [str(c) for c in classes]
        if len(set(text)) != len(text):
            raise ValueError(
                f"classes {classes} read the same as text, so a label file could "
                "not tell them apart."
            )
        try:
            return sorted(classes)
        except TypeError as exc:
            raise TypeError(
                f"classes must all be of one kind (all numbers or all text): {classes}."
            ) from exc

    @staticmethod
    def _check_columns(columns, frame, name):
        if columns is None:
            return None
        if isinstance(columns, str):
            columns = [columns]
        columns = list(columns)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{name} names columns {missing} that the pool does not have; its "
                f"columns are {list(frame.columns)}."
            )
        return columns

    def _check_validation(self, validation) -> None:
        pd = _pandas()
        if not isinstance(validation, pd.DataFrame):
            raise TypeError(
                "validation must be a pandas DataFrame, got "
                f"{type(validation).__name__}."
            )
        need = [*self.features, *(self.sensitive_features or []), self.label_column]
        missing = [c for c in dict.fromkeys(need) if c not in validation.columns]
        if missing:
            raise ValueError(f"validation lacks the columns {missing}.")
        self._as_classes(
            validation[self.label_column].tolist(), validation.index, "validation"
        )

    def _as_classes(self, values, ids, name) -> list:
        """``values`` as classes, matched by value or else by their text."""
        by_value = {c: c for c in self.classes}
        by_text = {str(c): c for c in self.classes}
        out, missing, unknown = [], [], []
        for i, v in zip(ids, values):
            if is_missing(v) or (isinstance(v, str) and not v.strip()):
                missing.append(i)
                continue
            c = _class_of(v, by_value, by_text)
            if c is _UNKNOWN:
                unknown.append((i, v))
            else:
                out.append(c)
        problems = []
        if missing:
            problems.append(f"no label for ids {_shown(missing)}")
        if unknown:
            pairs = ", ".join(f"{i!r}: {v!r}" for i, v in unknown[:_SHOW])
            more = f", ... ({len(unknown)} in all)" if len(unknown) > _SHOW else ""
            problems.append(
                f"labels outside classes {self.classes} for ids {{{pairs}{more}}}"
            )
        if problems:
            raise ValueError(f"{name}: " + "; ".join(problems) + ".")
        return out

    # -- the rows -------------------------------------------------------------

    @property
    def n_labeled(self) -> int:
        """Rows labeled so far."""
        return len(self._labeled)

    @property
    def labeled_ids(self):
        """Ids of the labeled rows, in the order they were labeled."""
        return self._ids[self._labeled]

    @property
    def labels(self):
        """The labels collected so far, a Series indexed by id."""
        return _pandas().Series(
            self._labels, index=self.labeled_ids, name=self.label_column, dtype=object
        )

    @property
    def out_ids(self):
        """Ids of the rows handed out and not labeled yet."""
        return self._ids[list(self._out)]

    def _X(self, positions):
        return take_rows(self.pool[self.features], positions)

    def _groups(self, positions, frame=None):
        if self.sensitive_features is None:
            return None
        frame = self.pool if frame is None else frame
        values = frame[self.sensitive_features].to_numpy()
        values = values[positions] if positions is not None else values
        return values[:, 0] if values.shape[1] == 1 else values

    def next_batch(self, n: int = 10, *, include_out: bool = False):
        """The next ``n`` rows to label, marked as out for labeling.

        Parameters
        ----------
        n : int, default=10
            How many rows.
        include_out : bool, default=False
            Whether rows already out for labeling may be handed out again (an
            annotator who never answered); by default they are not.

        Returns
        -------
        batch : pandas.DataFrame
            The pool's rows (every column, the ids kept), best first.
        """
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}.")
        free = np.ones(len(self.pool), dtype=bool)
        free[self._labeled] = False
        if not include_out:
            free[list(self._out)] = False
        available = np.flatnonzero(free)
        if n > len(available):
            out = "" if include_out else f" and {len(self._out)} out for labeling"
            raise ValueError(
                f"n={n} rows asked for, but only {len(available)} of the pool's "
                f"{len(self.pool)} rows are available ({self.n_labeled} labeled{out})."
            )
        if self.learner_ is None:
            rng = np.random.RandomState(round_seed(self._seed, self._n_batches))
            picks = rng.choice(len(available), n, replace=False)
        else:
            picks = self.learner_.query(
                self._X(available), n, sensitive_features=self._groups(available)
            )
        chosen = available[picks]
        self._n_batches += 1
        for p in chosen:
            self._out[int(p)] = self._n_batches
        return self.pool.iloc[chosen].copy()

    def release(self, ids=None) -> "LabelingSession":
        """Put rows out for labeling back in the pool (all of them by default).

        Parameters
        ----------
        ids : list or None, default=None
            Ids of rows out for labeling.

        Returns
        -------
        self : LabelingSession
        """
        if ids is None:
            self._out.clear()
            return self
        ids = list(ids)
        positions = self._positions(ids, "ids")
        not_out = [i for i, p in zip(ids, positions) if p not in self._out]
        if not_out:
            raise ValueError(f"ids {_shown(not_out)} are not out for labeling.")
        for p in set(positions):
            del self._out[p]
        return self

    def _positions(self, ids, name) -> list:
        index = self._ids
        found = index.get_indexer(ids) if len(ids) else np.empty(0, dtype=np.intp)
        if (found < 0).any():
            # Ids read from a file come back as text: match them by text too.
            text = _pandas().Index(index.astype(str))
            if text.is_unique:
                retry = text.get_indexer([str(i) for i in ids])
                found = np.where(found < 0, retry, found)
        unknown = [i for i, f in zip(ids, found) if f < 0]
        if unknown:
            raise ValueError(f"{name}: ids {_shown(unknown)} are not in the pool.")
        return [int(f) for f in found]

    # -- labels in --------------------------------------------------------------

    def _parse_labels(self, labels):
        pd = _pandas()
        if isinstance(labels, pd.DataFrame):
            if self.label_column not in labels.columns:
                raise ValueError(
                    f"labels has no column {self.label_column!r} (the session's "
                    f"label_column); its columns are {list(labels.columns)}."
                )
            for name in dict.fromkeys((self.id_name, "id")):
                if name in labels.columns:
                    return labels[name].tolist(), labels[self.label_column].tolist()
            # A plain row number is no id: taking it would label the wrong rows.
            if labels.index.name != self.id_name and isinstance(
                labels.index, pd.RangeIndex
            ):
                raise ValueError(
                    f"labels has no id column {self.id_name!r} (nor 'id'), and its "
                    "index holds row numbers, not ids; its columns are "
                    f"{list(labels.columns)}."
                )
            return labels.index.tolist(), labels[self.label_column].tolist()
        if isinstance(labels, pd.Series):
            return labels.index.tolist(), labels.tolist()
        if isinstance(labels, Mapping):
            return list(labels.keys()), list(labels.values())
        raise TypeError(
            "labels must be a DataFrame (ids and a label column), a Series "
            f"indexed by id, or a mapping id -> label; got {type(labels).__name__}."
        )

    def add_labels(
        self, labels, *, allow_unrequested: bool = False
    ) -> "LabelingSession":
        """Take labels back, check them all, and teach the learner.

        On any error nothing changes: no label is stored, no row leaves the
        out-for-labeling list, and the learner is as it was.

        Parameters
        ----------
        labels : DataFrame, Series or mapping
            Id -> label. A DataFrame gives the ids in ``id_column`` (or a
            column ``id``, or its index) and the labels in ``label_column``,
            as :func:`read_labels_csv` and
            :func:`read_label_studio_export` return them.
        allow_unrequested : bool, default=False
            Whether rows that were never handed out may be labeled (labels
            you already had, say). By default they are refused: a label for
            a row nobody was asked about is usually a wrong id.

        Returns
        -------
        self : LabelingSession
        """
        ids, values = self._parse_labels(labels)
        if not ids:
            raise ValueError("labels is empty: there is nothing to add.")
        counts = _pandas().Series(ids, dtype=object).astype(str).value_counts()
        if (counts > 1).any():
            raise ValueError(
                f"labels: ids {_shown(counts.index[counts > 1])} appear more than once."
            )
        positions = self._positions(ids, "labels")
        problems = []
        done = set(self._labeled)
        already = [i for i, p in zip(ids, positions) if p in done]
        if already:
            problems.append(f"ids {_shown(already)} are labeled already")
        if not allow_unrequested:
            unrequested = [
                i
                for i, p in zip(ids, positions)
                if p not in self._out and p not in done
            ]
            if unrequested:
                problems.append(
                    f"ids {_shown(unrequested)} were never handed out (pass "
                    "allow_unrequested=True to add them anyway)"
                )
        try:
            new_labels = self._as_classes(values, ids, "labels")
        except ValueError as exc:
            problems.append(str(exc)[len("labels: ") :].rstrip("."))
        if problems:
            raise ValueError("labels: " + "; ".join(problems) + ". Nothing was added.")
        self._learn(positions, new_labels)
        return self

    def _learn(self, positions, new_labels) -> None:
        learner = self.learner_
        all_positions = [*self._labeled, *positions]
        all_labels = [*self._labels, *new_labels]
        # A learner knows the classes of its first fit only: a class seen for
        # the first time means a new fit on every label (the strategy's run
        # state starts over). Until two classes are labeled there is none.
        fresh = learner is None or set(new_labels) - set(learner.classes_.tolist())
        if fresh and len(set(all_labels)) >= 2:
            learner = clone(self.learner).fit(
                self._X(all_positions),
                np.asarray(all_labels, dtype=object),
                sensitive_features=self._groups(all_positions),
            )
        elif not fresh:
            learner.teach(
                self._X(positions),
                np.asarray(new_labels, dtype=object),
                sensitive_features=self._groups(positions),
            )
        # Only now, with the learner taught, does the session change.
        self.learner_ = learner
        self._labeled, self._labels = all_positions, all_labels
        for p in positions:
            self._out.pop(p, None)
        self.history_.append(round_record(self, positions))

    # -- progress ---------------------------------------------------------------

    def progress(self):
        """One row per round of labels: counts, the picks' groups and scores.

        Returns
        -------
        table : pandas.DataFrame
            ``round``, ``time``, ``labels`` (in all), ``new`` (this round),
            ``out`` (still out for labeling), ``fitted`` (whether the learner
            is fitted yet), ``minority_share`` (share of the round's rows in
            the pool's rarest group), and with ``validation``
            and a fitted learner ``accuracy``, ``demographic_parity``,
            ``equalized_odds`` and ``accuracy[<group>]`` per group.
        """
        return _pandas().DataFrame(self.history_)

    def plot_progress(self):
        """The :meth:`progress` table as a matplotlib figure.

        Returns
        -------
        figure : matplotlib.figure.Figure
        """
        from ._session_progress import plot_progress

        return plot_progress(self)

    def __repr__(self) -> str:
        state = "fitted" if self.learner_ is not None else "not fitted yet"
        return (
            f"<LabelingSession: {self.n_labeled} of {len(self.pool)} rows labeled, "
            f"{len(self._out)} out for labeling, {len(self.history_)} rounds, "
            f"learner {state}>"
        )


_UNKNOWN = object()


def _class_of(value, by_value: dict, by_text: dict):
    """The class ``value`` stands for, or _UNKNOWN."""
    if _hashable(value) and value in by_value:
        return by_value[value]
    text = str(value).strip()
    if text in by_text:
        return by_text[text]
    # "1.0" from a spreadsheet for the class 1.
    try:
        number = float(text)
    except ValueError:
        return _UNKNOWN
    for c in by_value:
        if isinstance(c, int | float) and not isinstance(c, bool) and c == number:
            return c
    return _UNKNOWN


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
