"""notation-py: sign and verify OCI artifacts with the Notary Project signature formats.

The public API is small: :func:`sign`, :func:`verify`, :mod:`notation.models`, :mod:`notation.errors`.
Everything under ``notation._internal`` may change without notice.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
