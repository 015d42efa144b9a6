"""``notation-devstack az-login``: a devstack-owned ``az`` configuration (``$AZURE_CONFIG_DIR``) in which the
devstack cloud is registered and active, MSAL's instance discovery is off, telemetry is off, and the devstack user
is signed in, all done by the real ``az`` itself (``az cloud register``, ``az config set``, ``az login``), so the
user's own ``~/.azure`` is never touched and nothing is written in a format we would have to guess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from notation_devstack.cloud.metadata import CLOUD_NAME


def find_az() -> str | None:
    explicit = os.environ.get("DEVSTACK_AZ")
    if explicit:
        return explicit
    return shutil.which("az")


def az_environment(config_dir: Path, env: dict[str, str]) -> dict[str, str]:
    out = dict(os.environ)
    out.update({k: v for k, v in env.items() if k in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "HTTPS_PROXY",
                                                      "NO_PROXY")})
    out["AZURE_CONFIG_DIR"] = str(config_dir)
    out["AZURE_CORE_COLLECT_TELEMETRY"] = "false"
    out["AZURE_CORE_SURVEY_MESSAGE"] = "false"
    out["AZURE_CORE_NO_COLOR"] = "true"
    return out


def _run(az: str, args: list[str], env: dict[str, str], report: list[str]) -> str:
    started = time.monotonic()
    proc = subprocess.run([az, *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=180)
    shown = " ".join("--password=***" if a.startswith("--password=") else a for a in args)
    report.append(f"az {shown}  ({time.monotonic() - started:.1f}s)")
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        # az ends a usage error with its recommendations; the ERROR: line is the one that says what went wrong
        tail = next((line for line in lines if line.startswith("ERROR:")), lines[-1] if lines else "no output")
        raise RuntimeError(f"az {args[0]} {args[1] if len(args) > 1 else ''} failed: {tail}")
    return proc.stdout


def az_login(az: str, config_dir: Path, cloud_url: str, user: dict[str, Any], env: dict[str, str],
             subscription_id: str) -> list[str]:
    """Run the az commands that make ``config_dir`` a signed-in devstack config; returns what ran."""
    config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    azenv = az_environment(config_dir, env)
    report: list[str] = []
    _run(az, ["config", "set", "core.instance_discovery=false", "core.collect_telemetry=false",
              "core.survey_message=false", "core.login_experience_v2=off", "core.only_show_errors=true",
              "auto-upgrade.enable=no", "--only-show-errors"], azenv, report)
    clouds = json.loads(_run(az, ["cloud", "list", "--query", "[].name", "-o", "json"], azenv, report))
    verb = "update" if CLOUD_NAME in clouds else "register"
    _run(az, ["cloud", verb, "--name", CLOUD_NAME, "--endpoint-resource-manager", cloud_url.rstrip("/") + "/"],
         azenv, report)
    _run(az, ["cloud", "set", "--name", CLOUD_NAME], azenv, report)
    # --opt=value: a value that starts with "-" is not read as an option
    _run(az, ["login", f"--username={user['upn']}", f"--password={user['password']}", "--output", "none"],
         azenv, report)
    _run(az, ["account", "set", "--subscription", subscription_id], azenv, report)
    return report


def register(sub: Any) -> None:
    parser = sub.add_parser("az-login", help="sign the real az in to the devstack (its own AZURE_CONFIG_DIR)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="default: $NOTATION_DEVSTACK_HOME or $XDG_STATE_HOME/notation-devstack")
    parser.set_defaults(handler=_az_login)


def login_from_state(state: Path) -> list[str]:
    info = json.loads((state / "stack.json").read_text())
    cloud = info.get("cloud")
    if not cloud:
        raise RuntimeError("the devstack runs without its Azure control plane: run `notation-devstack up` again")
    az = find_az()
    if az is None:
        raise RuntimeError("no az found: install azure-cli (e.g. `python3 -m venv ~/az && ~/az/bin/pip install "
                           "azure-cli`) and put its bin on PATH, or set DEVSTACK_AZ")
    config = json.loads(Path(cloud["config"]).read_text())
    env = {"REQUESTS_CA_BUNDLE": info["ca_bundle"], "SSL_CERT_FILE": info["ca_bundle"],
           "HTTPS_PROXY": cloud["proxy"], "NO_PROXY": "127.0.0.1,::1"}
    return az_login(az, Path(cloud["az_config_dir"]), cloud.get("arm_url") or cloud["url"], config["user"], env,
                    str(cloud["subscription_id"]))


def _az_login(args: Any) -> int:
    from notation_devstack.stack.cli import default_state_dir

    state = Path(args.state_dir) if args.state_dir else default_state_dir()
    for line in login_from_state(state):
        print(line, file=sys.stderr)
    print(f"Signed in to the devstack cloud; AZURE_CONFIG_DIR={state / 'az'} (set by the env file)", file=sys.stderr)
    return 0
