"""The labeling loop through ``python -m skfairal session``, in subprocesses."""

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from test_session import adult_frame


def _cli(*args, cwd, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "skfairal", "session", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode:
        raise AssertionError(f"{args} exited {result.returncode}:\n{result.stderr}")
    return result


def _fill(path, truth):
    """What an annotator does: fill in the label column."""
    batch = pd.read_csv(path, dtype=str, keep_default_na=False)
    batch["label"] = truth[batch["person"]].to_numpy()
    batch.to_csv(path, index=False)
    return batch


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    frame, truth = adult_frame(2500)
    frame.iloc[:2000].to_csv(root / "pool.csv", index=False)
    validation = frame.iloc[2000:].drop(columns="person")
    validation.assign(label=truth.iloc[2000:].to_numpy()).to_csv(
        root / "validation.csv", index=False
    )
    return root, truth


def test_the_whole_loop_through_the_command_line(files):
    root, truth = files
    out = _cli(
        "init", "s.skfal", "--pool", "pool.csv", "--id-column", "person",
        "--sensitive", "sex", "--classes", "<=50K", ">50K", "--strategy", "falcon",
        "--param", "lam=0.5", "--validation", "validation.csv", cwd=root,
    )  # fmt: skip
    assert "started s.skfal: 2000 rows to label" in out.stdout
    seen = set()
    for k in (1, 2, 3):
        out = _cli("next", "s.skfal", "-n", 20, "--out", f"b{k}.csv", cwd=root)
        assert f"wrote 20 rows to b{k}.csv" in out.stdout
        batch = _fill(root / f"b{k}.csv", truth)
        assert not seen & set(batch["person"])
        seen |= set(batch["person"])
        out = _cli("add", "s.skfal", f"b{k}.csv", cwd=root)
        assert f"added 20 labels: {20 * k} labeled" in out.stdout
    out = _cli("progress", "s.skfal", "--plot", "progress.png", cwd=root)
    lines = out.stdout.splitlines()
    assert "60 of 2000 rows labeled" in lines[0]
    header = lines[1].split()
    assert header[:3] == ["round", "labels", "new"]
    assert "accuracy" in header
    assert "equalized_odds" in header
    assert [line.split()[1] for line in lines[2:5]] == ["20", "40", "60"]
    assert (root / "progress.png").read_bytes()[:4] == b"\x89PNG"

    # A copy of the session, resumed in another process, picks the same batch.
    shutil.copy(root / "s.skfal", root / "copy.skfal")
    _cli("next", "s.skfal", "-n", 15, "--out", "b4.csv", cwd=root)
    _cli("next", "copy.skfal", "-n", 15, "--out", "c4.csv", cwd=root)
    assert (root / "b4.csv").read_text() == (root / "c4.csv").read_text()

    # Labels for rows never handed out: refused, exit 1, the session untouched.
    before = _digest(root / "s.skfal")
    out_now = set(pd.read_csv(root / "b4.csv", dtype=str)["person"])
    never = next(i for i in truth.index[:2000] if i not in seen | out_now)
    wrong = pd.DataFrame({"person": [never], "label": [">50K"]})
    wrong.to_csv(root / "wrong.csv", index=False)
    out = _cli("add", "s.skfal", "wrong.csv", cwd=root, check=False)
    assert out.returncode == 1
    assert f"error: labels: ids '{never}' were never handed out" in out.stderr
    assert "(pass --allow-unrequested to add them anyway)" in out.stderr
    assert _digest(root / "s.skfal") == before


def test_usage_errors_and_help(files):
    root, _ = files
    for verb in ("init", "next", "add", "progress"):
        out = _cli(verb, "--help", cwd=root)
        assert f"python -m skfairal session {verb}" in out.stdout
        assert "Exit status" in out.stdout
    out = _cli("next", cwd=root, check=False)
    assert out.returncode == 2
    assert "required" in out.stderr
    out = _cli("progress", "missing.skfal", cwd=root, check=False)
    assert out.returncode == 1
    assert "No such file or directory: missing.skfal" in out.stderr
    out = _cli(
        "init", "x.skfal", "--pool", "pool.csv", "--id-column", "person",
        "--classes", "a", "b", "--strategy", "nope", cwd=root, check=False,
    )  # fmt: skip
    assert out.returncode == 1
    assert "--strategy 'nope' is not a known strategy" in out.stderr
    out = _cli(
        "init", "x.skfal", "--pool", "pool.csv", "--id-column", "person",
        "--classes", "a", "b", "--strategy", "falcon", "--param", "lam=-3",
        cwd=root, check=False,
    )  # fmt: skip
    assert out.returncode == 1
    assert "'lam' parameter of FalconSampling must be a float" in out.stderr
    assert not (root / "x.skfal").exists()


def test_label_studio_through_the_command_line(files, tmp_path):
    root, truth = files
    shutil.copy(root / "pool.csv", tmp_path)
    _cli(
        "init", "s.skfal", "--pool", "pool.csv", "--id-column", "person",
        "--sensitive", "sex", "--classes", "<=50K", ">50K", cwd=tmp_path,
    )  # fmt: skip
    out = _cli("next", "s.skfal", "-n", 6, "--out", "tasks.json", "--format",
               "label-studio", cwd=tmp_path)  # fmt: skip
    assert "tasks.config.xml" in out.stdout
    tasks = pd.read_json(tmp_path / "tasks.json").to_dict("records")
    rng = np.random.RandomState(0)
    export = [
        {
            "id": int(rng.randint(1000)),
            "data": task["data"],
            "annotations": [
                {
                    "was_cancelled": False,
                    "result": [
                        {
                            "from_name": "label",
                            "to_name": "row",
                            "type": "choices",
                            "value": {"choices": [truth[task["data"]["skfairal_id"]]]},
                        }
                    ],
                }
            ],
        }
        for task in tasks
    ]
    pd.Series(export).to_json(tmp_path / "export.json", orient="records")
    out = _cli(
        "add", "s.skfal", "export.json", "--format", "label-studio", cwd=tmp_path
    )
    assert "added 6 labels: 6 labeled, 0 still out" in out.stdout


def test_a_batch_whose_session_cannot_be_saved_is_removed(files, tmp_path, monkeypatch):
    from skfairal._session_cli import main
    from skfairal.active import LabelingSession

    root, _ = files
    shutil.copy(root / "pool.csv", tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["init", "s.skfal", "--pool", "pool.csv", "--id-column", "person",
                 "--classes", "<=50K", ">50K"]) == 0  # fmt: skip
    before = _digest(tmp_path / "s.skfal")

    def full_disk(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(LabelingSession, "save", full_disk)
    for fmt, out in (("csv", "b.csv"), ("label-studio", "t.json")):
        code = main(["next", "s.skfal", "-n", "5", "--out", out, "--format", fmt])
        assert code == 1
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".s.skfal.lock", "pool.csv", "s.skfal"]
    assert _digest(tmp_path / "s.skfal") == before


def test_a_second_command_waits_for_the_first(files, tmp_path, monkeypatch):
    import fcntl

    from skfairal import _session_cli

    root, _ = files
    shutil.copy(root / "pool.csv", tmp_path)
    monkeypatch.chdir(tmp_path)
    assert _session_cli.main(["init", "s.skfal", "--pool", "pool.csv", "--id-column",
                              "person", "--classes", "<=50K", ">50K"]) == 0  # fmt: skip
    monkeypatch.setattr(_session_cli, "LOCK_WAIT_SECONDS", 0.3)
    # Another command holds the session.
    with open(tmp_path / ".s.skfal.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code = _session_cli.main(["next", "s.skfal", "-n", "5", "--out", "b.csv"])
        fcntl.flock(held, fcntl.LOCK_UN)
    assert code == 1
    assert not (tmp_path / "b.csv").exists()
    assert _session_cli.main(["next", "s.skfal", "-n", "5", "--out", "b.csv"]) == 0
