"""Generated devstack passwords that survive being pasted after a flag.

``secrets.token_urlsafe`` draws from ``A-Za-z0-9-_``, so one password in 64 starts with ``-`` and a command line
such as ``az login -p $PASSWORD`` (argparse) then reads it as an option and fails.
"""

from __future__ import annotations

import secrets


def new_password(nbytes: int = 18) -> str:
    while True:
        candidate = secrets.token_urlsafe(nbytes)
        if candidate[0].isalnum():
            return candidate
