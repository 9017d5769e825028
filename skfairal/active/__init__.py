"""The active-learning meta-estimator, and labeling sessions with people."""

from ._classifier import FairActiveClassifier
from ._label_studio import (
    label_studio_config,
    label_studio_tasks,
    read_label_studio_export,
    write_label_studio_tasks,
)
from ._session import LabelingSession
from ._session_file import SessionFileError
from ._session_files import read_labels_csv

__all__ = [
    "FairActiveClassifier",
    "LabelingSession",
    "SessionFileError",
    "label_studio_config",
    "label_studio_tasks",
    "read_label_studio_export",
    "read_labels_csv",
    "write_label_studio_tasks",
]
