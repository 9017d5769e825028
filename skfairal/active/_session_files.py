"""A labeling session's files: its saved state, batches out and labels in."""

import numpy as np

from ..utils import import_optional
from ._atomic_write import atomic_write_bytes
from ._session_file import (
    SessionFileError,
    read_session_file,
    write_session_file,
)

# Saved in the manifest as they are (plain JSON values).
_PLAIN = ("id_column", "features", "sensitive_features", "label_column", "_seed")


def read_labels_csv(path, *, id_column: str = "id", label_column: str = "label"):
    """The labels of a CSV file an annotator filled in, rows left blank skipped.

    Ids are read as text, so that ``007`` stays ``007``;
    :meth:`LabelingSession.add_labels` matches them to the pool's ids by
    value or by text.

    Parameters
    ----------
    path : str or path-like
        The file, as written by :meth:`LabelingSession.to_csv` and filled in.
    id_column : str, default="id"
        Its column of ids.
    label_column : str, default="label"
        Its column of labels.

    Returns
    -------
    labels : pandas.DataFrame
        Columns ``id_column`` and ``label_column``, one row per labeled row.

    Examples
    --------
    >>> import os, tempfile
    >>> from skfairal.active import read_labels_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "batch.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("id,age,label\\n007,31,yes\\n008,45,\\n")
    >>> read_labels_csv(path)
        id label
    0  007   yes
    """
    pd = import_optional("pandas", purpose="read_labels_csv", extra="session")
    try:
        frame = pd.read_csv(
            path, dtype={id_column: str, label_column: str}, keep_default_na=False
        )
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{str(path)!r} is empty: it has no header row.") from exc
    missing = [c for c in (id_column, label_column) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{str(path)!r} has no column(s) {missing} (id_column={id_column!r}, "
            f"label_column={label_column!r}); its columns are {list(frame.columns)}."
        )
    frame = frame[[id_column, label_column]]
    blank = frame[id_column].str.strip() == ""
    if blank.any():
        rows = (np.flatnonzero(blank) + 2).tolist()
        raise ValueError(f"{str(path)!r}: lines {rows} have no id.")
    labeled = frame[label_column].str.strip() != ""
    return frame[labeled].reset_index(drop=True)


class SessionFilesMixin:
    """:class:`LabelingSession`'s files: save/load, CSV and Label Studio."""

    @property
    def id_name(self) -> str:
        """The name of the id column in exported files."""
        if self.id_column is not None:
            return self.id_column
        return self.pool.index.name if isinstance(self.pool.index.name, str) else "id"

    # -- batches out, labels in -------------------------------------------------

    def _with_ids(self, batch):
        if self.id_column is not None:
            return batch.reset_index(drop=True)
        return batch.rename_axis(self.id_name).reset_index()

    def to_csv(self, batch, path) -> None:
        """Write ``batch`` for an annotator: its ids and columns, and an empty
        ``label_column`` to fill in. Read it back with :func:`read_labels_csv`.

        Parameters
        ----------
        batch : pandas.DataFrame
            Rows from :meth:`next_batch`.
        path : str or path-like
            The file to write (atomically).
        """
        table = self._with_ids(batch)
        table[self.label_column] = ""
        atomic_write_bytes(path, table.to_csv(index=False).encode())

    def read_labels_csv(self, path):
        """:func:`read_labels_csv` with this session's id and label columns."""
        return read_labels_csv(
            path, id_column=self.id_name, label_column=self.label_column
        )

    def to_label_studio(self, batch, path) -> None:
        """Write ``batch`` as Label Studio tasks (JSON) to import.

        Each task's ``data`` holds the row's id as ``skfairal_id`` and its
        columns as ``row``, shown by the labeling config of
        :func:`~skfairal.active.label_studio_config`. Read the annotations
        back with :meth:`read_label_studio_export`.

        Parameters
        ----------
        batch : pandas.DataFrame
            Rows from :meth:`next_batch`.
        path : str or path-like
            The file to write (atomically).
        """
        from ._label_studio import write_label_studio_tasks

        rows = batch
        if self.id_column is not None:
            rows = batch.drop(columns=[self.id_column]).set_axis(
                batch[self.id_column].to_numpy()
            )
        write_label_studio_tasks(rows, path)

    def label_studio_config(self) -> str:
        """The labeling config (XML) of a Label Studio project for the tasks."""
        from ._label_studio import label_studio_config

        return label_studio_config([str(c) for c in self.classes])

    def read_label_studio_export(self, source, **kwargs):
        """The labels of a Label Studio JSON export, ready for :meth:`add_labels`.

        Parameters
        ----------
        source : str, path-like or list of dict
            The export file ("JSON" or "JSON_MIN"), or its parsed content.
        **kwargs
            Passed to :func:`~skfairal.active.read_label_studio_export`
            (``from_name``, ``conflicts``).

        Returns
        -------
        labels : pandas.DataFrame
        """
        from ._label_studio import read_label_studio_export

        labels = read_label_studio_export(source, **kwargs)
        return labels.rename(columns={"label": self.label_column})

    # -- the session's state ------------------------------------------------------

    def save(self, path) -> None:
        """Write the whole session to ``path``, atomically and without pickles.

        The file holds the pool, the validation rows, the labels, the rows out
        for labeling, the history and the learner with its strategy's state
        (Falcon's bandits and postponed rows, FACA-GEN's bandit and
        controller, a PANDA policy's weights, a torch model's weights). It is
        written to a temporary
        file that then replaces ``path``: a crash while saving leaves the
        previous file as it was.

        Parameters
        ----------
        path : str or path-like
            The file (``.skfal`` by convention).

        Raises
        ------
        SessionFileError
            If part of the state can only be stored by pickling it (a torch
            module instance as a parameter, a lambda, a pool column of Python
            objects); the file is then not touched.
        """
        state = {name: getattr(self, name) for name in _PLAIN}
        state |= {
            "classes": self.classes,
            "pos_label": self.pos_label,
            "labeled": self._labeled,
            "labels": [self.classes.index(c) for c in self._labels],
            "out": [[p, b] for p, b in self._out.items()],
            "n_batches": self._n_batches,
            "history": self.history_,
        }
        write_session_file(
            path,
            {"state": state},
            frames={"pool": self.pool, "validation": self.validation},
            objects={"learner": self.learner, "learner_": self.learner_},
        )

    @classmethod
    def load(cls, path, *, trusted=None):
        """A session saved by :meth:`save`, to go on where it stopped.

        The file is read without unpickling anything: tables as plain arrays,
        estimators through ``skops.io``, the weights of PANDA policies and
        torch models with ``torch.load(weights_only=True)``. Only
        scikit-learn's and skfairal's classes, skfairal's query strategies and
        the torch and skorch classes of a net's parameters are trusted by
        default.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save`.
        trusted : list of str or type, default=None
            More types to trust (your own estimator class, say), by name as
            the error lists them.

        Returns
        -------
        session : LabelingSession

        Raises
        ------
        FileNotFoundError
            If there is no such file.
        SessionFileError
            If it is not a session file, is damaged or names untrusted types.
        """
        manifest, frames, objects = read_session_file(path, trusted=trusted)
        try:
            state = manifest["state"]
            session = cls.__new__(cls)
            for name in _PLAIN:
                setattr(session, name, state[name])
            session.classes = list(state["classes"])
            session.pos_label = state["pos_label"]
            session.pool = frames["pool"]
            session.validation = frames.get("validation")
            session.learner = objects["learner"]
            session.learner_ = objects.get("learner_")
            session._ids = pool_ids(session.pool, session.id_column)
            n = len(session.pool)
            session._labeled = [_position(p, n) for p in state["labeled"]]
            session._labels = [session.classes[int(c)] for c in state["labels"]]
            session._out = {_position(p, n): int(b) for p, b in state["out"]}
            session._n_batches = int(state["n_batches"])
            session.history_ = list(state["history"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SessionFileError(
                f"{str(path)!r} is not a readable skfairal labeling session: its "
                f"state is incomplete or inconsistent ({type(exc).__name__}: {exc})."
            ) from exc
        if len(session._labels) != len(session._labeled):
            raise SessionFileError(
                f"{str(path)!r}: its labels and labeled rows do not match."
            )
        return session


def _position(p, n: int) -> int:
    if not isinstance(p, int) or not 0 <= p < n:
        raise ValueError(f"row position {p!r} outside the pool of {n} rows")
    return p


def pool_ids(pool, id_column):
    """The ids of the pool's rows: its ``id_column``, or its index."""
    pd = import_optional("pandas", purpose="LabelingSession", extra="session")
    return pd.Index(pool.index if id_column is None else pool[id_column])
