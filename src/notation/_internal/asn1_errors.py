"""The exceptions asn1crypto raises on malformed input.

asn1crypto parses lazily and reports a malformed encoding with whatever the failing accessor raises: ValueError
mostly, but also TypeError, KeyError, AttributeError and IndexError (an empty BIT STRING read by ``.native``, found
by fuzzing). Every parser of untrusted DER here catches this one tuple, so a new kind is fixed in one place.
"""

from __future__ import annotations

ASN1_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, AttributeError, IndexError)
