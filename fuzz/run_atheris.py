"""Coverage-guided fuzzing of one target with atheris (libFuzzer): ``python fuzz/run_atheris.py TARGET SECONDS``.

The seed corpus (real signatures, manifests, policies...) is written to ``fuzz/corpus/<target>/`` first and grown
by libFuzzer as it finds new paths. A crash (any exception other than NotationError) stops the run, leaves
``crash-*`` input in ``fuzz/artifacts/<target>/`` and exits non-zero. The last line printed is the figure the
issue asks for: ``<target>: <executions> executions in <seconds> s, 0 crashes``.

atheris is not a project dependency: ``pip install atheris`` into the venv to use this (see the Makefile).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} TARGET SECONDS", file=sys.stderr)
        return 2
    name, seconds = argv[1], int(argv[2])

    import atheris

    from fuzz import seeds
    from fuzz.targets import TARGETS

    if name not in TARGETS:
        print(f"unknown target {name!r}; one of: {', '.join(sorted(TARGETS))}", file=sys.stderr)
        return 2
    target = TARGETS[name]
    corpus = ROOT / "fuzz" / "corpus" / name
    artifacts = ROOT / "fuzz" / "artifacts" / name
    artifacts.mkdir(parents=True, exist_ok=True)
    seeds.write_corpus(name, corpus)
    for data in seeds.seeds(name):  # warm the lazy imports outside the timed loop, and check the seeds
        target(data)

    atheris.instrument_all()  # the targets' modules are imported by now (the seed run above)
    libfuzzer_args = [
        argv[0],
        f"-max_total_time={seconds}",
        f"-artifact_prefix={artifacts}{os.sep}",
        "-max_len=65536",
        "-rss_limit_mb=2048",
        "-timeout=10",
        str(corpus),
    ]
    atheris.Setup(libfuzzer_args, target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
