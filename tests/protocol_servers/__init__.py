"""Real protocol servers for tests: an RFC 3161 TSA, an OCSP responder and a CRL server on 127.0.0.1 (free ports).

Each is configurable to misbehave (wrong nonce or imprint, bad status, slow, oversized, unknown status, ...), so the
timestamp and revocation code is tested against real HTTP and real ASN.1, never mocks.
"""
