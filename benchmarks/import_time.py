"""Time ``import skfairal`` against ``import sklearn.metrics`` in fresh interpreters.

    python benchmarks/import_time.py [--repeat 7]

Each import runs in its own subprocess (so nothing is cached in-process); the
median of the repeats is reported, with the ratio to the scikit-learn baseline
measured in the same run (skfairal.metrics builds on sklearn.metrics, which
itself loads pandas when it is installed). Also shows that torch, skorch and ot
stay unimported.
"""

import argparse
import statistics
import subprocess
import sys

_PROBE = """
import sys, time
t = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t
heavy = sorted(m for m in ("torch", "skorch", "ot", "pandas", "matplotlib")
               if m in sys.modules)
print(elapsed, ",".join(heavy))
"""


def measure(module: str, repeat: int) -> tuple[float, str]:
    times, heavy = [], ""
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        times.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    return statistics.median(times), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = [
        ("sklearn.metrics (baseline)", "sklearn.metrics"),
        ("skfairal", "skfairal"),
        ("skfairal.metrics", "skfairal.metrics"),
        ("skfairal.datasets", "skfairal.datasets"),
    ]
    base, base_heavy = measure("sklearn.metrics", args.repeat)
    print("| import | median seconds | ratio to baseline | heavy modules loaded |")
    print("|---|---:|---:|---|")
    for label, module in rows:
        if module == "sklearn.metrics":
            seconds, heavy = base, base_heavy
        else:
            seconds, heavy = measure(module, args.repeat)
        print(f"| {label} | {seconds:.3f} | {seconds / base:.2f} | {heavy or 'none'} |")


if __name__ == "__main__":
    main()
