"""notation-py benchmark for issue 15 (one verify, many images per call); prints figures, asserts nothing.

Run: ``.venv/bin/python bench/bench_many.py [--count 200] [--runs 7] [--separate 20] [--registry ours|docker|both]``

For each registry (ours: ``notation-devstack registry serve``, referrers API; Debian's ``docker-registry``: a Go
registry, tag-schema fallback), both in their own process on 127.0.0.1 over plain HTTP, N signed images:

* the floor (``python -c "from cryptography import x509; ..."``) and ``python -c pass``, measured in this run;
* one ``notation verify`` of one image: median wall time, ratio to the floor, peak memory;
* one ``notation verify`` call over the N images at ``--parallel 1``, ``4`` and ``8`` (medians), and one
  ``notation sign`` call over N fresh images (median of 3 calls, each over its own fresh images);
* next to each multi-image figure, the CPU time per call of the registry process and of the notation process: on
  2 cores, a call cannot take less wall time than (registry CPU + notation CPU) / 2;
* ``--separate`` separate ``notation verify`` processes (default 20; scaled to N), what a pipeline that runs one
  process per image pays;
* the library path: ``notation.Verifier.verify`` in a loop over the N images, warm connections (verifications/s).

The machine is shared: absolute times move with its load, the ratios to the floor measured in the same run are what
count. Medians of ``--runs`` runs (default 7), each after one warm-up run (byte-code cache warm).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support as S


def library_rate(refs: list[str], host: str, config: Path, runs: int) -> tuple[float, float]:
    """Verifications per second through ``notation.Verifier`` (one instance, connections kept alive), and the
    registry requests one verification sends."""
    import notation

    with notation.Verifier(config_dir=config, insecure_registries=[host]) as verifier:
        verifier.verify(refs[0])  # warm: connection, policy
        rates = []
        sent = verifier.request_count
        for _ in range(max(1, runs // 2)):
            start = time.perf_counter()
            for ref in refs:
                verifier.verify(ref)
            rates.append(len(refs) / (time.perf_counter() - start))
        per_image = (verifier.request_count - sent) / (len(refs) * max(1, runs // 2))
    return statistics.median(rates), per_image


SIGN_RUNS = 3


def bench_registry(name: str, host: str, base: Path, env: dict[str, str], args: argparse.Namespace,
                   floor: float) -> None:  # fmt: skip
    notation = S.notation_cmd()
    flags = ["--insecure-registry"]
    digests = S.push_images(host, "bench/app", args.count)
    refs = [f"{host}/bench/app@{d}" for d in digests]
    # sign: the median of SIGN_RUNS calls, each over its own fresh unsigned images (one run moved 1.3-3.6 s)
    t_signs: list[float] = []
    sign_cpu: list[tuple[float, float]] = []
    for run in range(SIGN_RUNS):
        fresh = [f"{host}/bench/fresh{run}@{d}"
                 for d in S.push_images(host, f"bench/fresh{run}", args.count, salt=f"fresh{run}")]  # fmt: skip
        server, client = S.cpu_seconds(host), S.children_cpu_seconds()
        t_signs.append(S.timed([*notation, "sign", *flags, "--parallel", "4", *fresh], env))
        sign_cpu.append((S.cpu_seconds(host) - server, S.children_cpu_seconds() - client))
    t_sign = statistics.median(t_signs)
    S.timed([*notation, "sign", *flags, "--parallel", "4", *refs], env)
    print(f"registry: {name} at {host}, {args.count} signed images")
    one = S.median_of([*notation, "verify", *flags, refs[0]], env, args.runs)
    rss = S.peak_rss_mib([*notation, "verify", *flags, refs[0]], env)
    S.row("notation verify, one image", one, floor, f"(peak {rss:.0f} MiB)")
    for parallel in (1, 4, 8):
        server, client = S.cpu_seconds(host), S.children_cpu_seconds()
        t = S.median_of([*notation, "verify", *flags, "--parallel", str(parallel), *refs], env, args.runs)
        calls = args.runs + 1  # median_of runs one warm-up call first
        server, client = (S.cpu_seconds(host) - server) / calls, (S.children_cpu_seconds() - client) / calls
        S.row(f"notation verify, {args.count} images in one call, --parallel {parallel}", t, floor,
              f"({t / args.count * 1000:.2f} ms/image; CPU per call: registry {server:.2f} s, notation "
              f"{client:.2f} s)")  # fmt: skip
    S.row(f"notation sign, {args.count} images in one call (--parallel 4)", t_sign, floor,
          f"(median of {SIGN_RUNS}: {', '.join(f'{t:.2f}' for t in sorted(t_signs))} s; CPU per call: registry "
          f"{statistics.median(c[0] for c in sign_cpu):.2f} s, notation "
          f"{statistics.median(c[1] for c in sign_cpu):.2f} s)")  # fmt: skip
    if args.separate:
        sample = refs[: args.separate]
        start = time.perf_counter()
        for ref in sample:
            S.timed([*notation, "verify", *flags, ref], env)
        scaled = (time.perf_counter() - start) * args.count / len(sample)
        S.row(f"{args.count} separate notation verify processes (from {len(sample)})", scaled, floor)
    if args.no_library:
        return
    rate, per_image = library_rate(refs, host, base / "config", args.runs)
    print(f"  {'library: Verifier.verify in a loop, warm connection':58s} {rate:8.0f} verifications/s "
          f"({per_image:.2f} requests each)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--separate", type=int, default=20)
    parser.add_argument("--registry", choices=("ours", "docker", "both"), default="both")
    parser.add_argument("--no-library", action="store_true", help="skip the in-process library figure")
    args = parser.parse_args()

    with S.notation_home() as (base, env):
        import os

        os.environ.update({k: env[k] for k in ("NOTATION_CONFIG", "NOTATION_CACHE", "DOCKER_CONFIG")})
        floor = S.median_of(S.FLOOR, env, args.runs)
        bare = S.median_of(S.PASS, env, args.runs)
        notation = S.notation_cmd()
        print(f"floor: python -c 'from cryptography import x509; ...' {floor * 1000:.1f} ms; "
              f"python -c pass {bare * 1000:.1f} ms (median of {args.runs})")  # fmt: skip
        for label, argv in (("notation --help", [*notation, "--help"]), ("notation version", [*notation, "version"])):
            t = S.median_of(argv, env, args.runs)
            print(f"  {label:58s} {t * 1000:8.1f} ms  {t / bare:5.2f}x python -c pass")
        if args.registry in ("ours", "both"):
            with S.our_registry(base / "ours") as host:
                bench_registry("ours (referrers API)", host, base, env, args, floor)
        if args.registry in ("docker", "both"):
            with S.docker_registry(base / "docker-registry") as dhost:
                if dhost is None:
                    print(f"registry: docker-registry not installed ({S.DOCKER_REGISTRY}); skipped")
                else:
                    bench_registry("Debian docker-registry (tag schema)", dhost, base, env, args, floor)


if __name__ == "__main__":
    main()
