"""Distinguished names as Go notation sees them (trust.md ID-01..11, cli.md CLI-75).

Trusted identities (`x509.subject: C=US, ST=WA, O=acme`) are matched by *parsing both sides into attribute maps*: the
identity string, and the leaf certificate subject rendered the way Go's ``pkix.Name.String()`` renders it. To be a
drop-in, both the renderer and the parser reproduce Go's quirks (go-ldap v3.4.10 ``ParseDN`` plus notation's
restrictions), because the quirks decide which certificates can ever match (ID-09).

No heavy imports at module level: this module is on the ``notation verify`` / ``policy import`` start-up path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from notation.errors import TrustPolicyError

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "X509_SUBJECT_PREFIX",
    "InvalidDistinguishedNameError",
    "check_trusted_identities",
    "go_name_string",
    "go_quote",
    "go_quote_dn_maps",
    "is_subset_dn",
    "parse_distinguished_name",
    "parse_ldap_dn",
]

X509_SUBJECT_PREFIX = "x509.subject"
WILDCARD = "*"

_MANDATORY = ("C", "ST", "O")
_VALID_DN_HINT = (
    "A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard"
)


class InvalidDistinguishedNameError(TrustPolicyError):
    """A DN (trusted identity value or rendered certificate subject) that notation cannot use."""


class _LdapParseError(Exception):
    """go-ldap's own error text, wrapped by :func:`parse_distinguished_name`."""


# --------------------------------------------------------------------------------------------------------------------
# Go string quoting (%q) - Go error messages quote DNs, subjects and times this way.
# --------------------------------------------------------------------------------------------------------------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """``strconv.Quote``: double-quoted, ``\\`` and ``"`` escaped, non-printable runes escaped."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif 0xDC80 <= cp <= 0xDCFF:  # a raw byte kept by surrogateescape: Go prints invalid UTF-8 as \xNN
            out.append(f"\\x{cp - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif cp < 0x80:
            out.append(f"\\x{cp:02x}")
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
    out.append('"')
    return "".join(out)


def go_quote_dn_maps(dns: Sequence[Mapping[str, str]]) -> str:
    """``fmt.Sprintf("%q", []map[string]string{...})``: ``[map["C":"US" "O":"acme"] ...]`` with sorted keys."""
    parts = []
    for dn in dns:
        items = " ".join(
            f"{go_quote(k)}:{go_quote(dn[k])}" for k in sorted(dn, key=lambda k: k.encode("utf-8", "surrogateescape"))
        )
        parts.append(f"map[{items}]")
    return "[" + " ".join(parts) + "]"


def _go_rune_repr(ch: str) -> str:
    """``fmt.Sprintf("%#U", r)``."""
    cp = ord(ch)
    return f"U+{cp:04X} '{ch}'" if ch.isprintable() else f"U+{cp:04X}"


# --------------------------------------------------------------------------------------------------------------------
# go-ldap v3.4.10 ParseDN
# --------------------------------------------------------------------------------------------------------------------

_SPECIAL_ESCAPES = frozenset(' "#+,;<=>\\')
_HEX = "0123456789abcdefABCDEF"


def _strip_spaces(value: str) -> str:
    """Remove unescaped leading/trailing spaces; keep a trailing space that follows a backslash (go-ldap rule)."""
    stripped = value.strip(" ")
    if stripped and stripped[-1] == "\\" and value[-1] == " ":
        stripped += " "
    return stripped


def _decode_string(raw: str) -> str:
    s = _strip_spaces(raw)
    buf = bytearray()
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch != "\\":
            buf += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= n:
            raise _LdapParseError(f"got corrupted escaped character: '{s}'")
        nxt = s[i + 1]
        if nxt in _SPECIAL_ESCAPES:
            buf += nxt.encode("ascii")
            i += 2
            continue
        if i + 2 >= n:
            raise _LdapParseError("failed to decode escaped character: encoding/hex: invalid byte: " + nxt)
        pair = s[i + 1 : i + 3]
        if len(pair.encode("utf-8", "surrogatepass")) != 2:
            raise _LdapParseError("failed to decode escaped character: invalid byte: " + pair)
        for c in pair:
            if c not in _HEX:
                raise _LdapParseError(
                    "failed to decode escaped character: encoding/hex: invalid byte: " + _go_rune_repr(c)
                )
        buf.append(int(pair, 16))
        i += 3
    return buf.decode("utf-8", "surrogateescape")


def parse_ldap_dn(text: str) -> list[list[tuple[str, str]]]:
    """Port of go-ldap v3.4.10 ``ParseDN``: a list of RDNs, each a list of (type, value), in string order.

    RDNs end at an unescaped ``,`` or ``;``; attributes of one RDN are joined by an unescaped ``+``; type and value
    split at the first unescaped ``=``. Values beginning with ``#`` (BER hex) are refused: notation rejects ``=#``
    before parsing anyway (ID-04), so that path of go-ldap is unreachable for us.
    """
    rdns: list[list[tuple[str, str]]] = []
    if not text.strip():
        return rdns
    rdn: list[tuple[str, str]] = []
    attr_type = ""
    escaping = False
    start = 0

    def value_of(raw: str) -> str:
        if raw.startswith("#"):
            raise _LdapParseError("failed to decode BER encoding: hex-encoded values are not supported")
        return _decode_string(raw)

    for i, ch in enumerate(text):
        if escaping:
            escaping = False
        elif ch == "\\":
            escaping = True
        elif ch == "=" and not attr_type:
            attr_type = _decode_string(text[start:i])
            start = i + 1
        elif ch in ",+;":
            if not attr_type:
                raise _LdapParseError("incomplete type, value pair")
            rdn.append((attr_type, value_of(text[start:i])))
            attr_type = ""
            start = i + 1
            if ch != "+":
                rdns.append(rdn)
                rdn = []
    if not attr_type:
        raise _LdapParseError("DN ended with incomplete type, value pair")
    rdn.append((attr_type, value_of(text[start:])))
    rdns.append(rdn)
    return rdns


# --------------------------------------------------------------------------------------------------------------------
# notation's DN rules (internal/pkix)
# --------------------------------------------------------------------------------------------------------------------


def parse_distinguished_name(name: str) -> dict[str, str]:
    """Parse a DN into ``{type: value}`` with notation's rules (ID-04..06); raises InvalidDistinguishedNameError."""
    quoted = go_quote(name)
    if "=#" in name:
        raise InvalidDistinguishedNameError(
            f"unsupported distinguished name (DN) {quoted}: notation does not support x509.subject identities "
            'containing "=#"'
        )
    try:
        rdns = parse_ldap_dn(name)
    except _LdapParseError as exc:
        raise InvalidDistinguishedNameError(
            f"parsing distinguished name (DN) {quoted} failed with err: {exc}. {_VALID_DN_HINT}"
        ) from None
    attrs: dict[str, str] = {}
    for rdn in rdns:
        if len(rdn) > 1:
            raise InvalidDistinguishedNameError(
                f"distinguished name (DN) {quoted} has multi-valued RDN attributes, remove multi-valued RDN attributes "
                "as they are not supported"
            )
        for attr_type, value in rdn:
            key = "ST" if attr_type == "S" else attr_type
            # Go tests the stored value for "", so a type first given with an empty value may be given again.
            if attrs.get(key, ""):
                raise InvalidDistinguishedNameError(
                    f"distinguished name (DN) {quoted} has duplicate RDN attribute for {go_quote(key)}, DN can only "
                    "have unique RDN attributes"
                )
            attrs[key] = value
    for key in _MANDATORY:
        if not attrs.get(key, ""):
            raise InvalidDistinguishedNameError(
                f"distinguished name (DN) {quoted} has no mandatory RDN attribute for {go_quote(key)}, it must contain "
                "'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"
            )
    return attrs


def is_subset_dn(dn1: Mapping[str, str], dn2: Mapping[str, str]) -> bool:
    """Every attribute of ``dn1`` is in ``dn2`` with a byte-equal value (a missing attribute counts as "")."""
    return all(dn2.get(key, "") == value for key, value in dn1.items())


# --------------------------------------------------------------------------------------------------------------------
# Go pkix.Name.String()
# --------------------------------------------------------------------------------------------------------------------

# Named types in the order Go's ToRDNSequence emits them (CLI-75); CN and SERIALNUMBER keep only the last value.
_NAMED_ORDER = (
    ("2.5.4.6", "C"),
    ("2.5.4.8", "ST"),
    ("2.5.4.7", "L"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.17", "POSTALCODE"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
)
_NAMED = dict(_NAMED_ORDER)
_SINGLE_VALUED = frozenset({"2.5.4.3", "2.5.4.5"})


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _is_printable_string(value: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in " '()+,-./:=?") for c in value)


def _go_marshal_value(value: str | bytes) -> bytes:
    """What Go's ``asn1.Marshal`` makes of a parsed attribute value (PrintableString if it can, else UTF8String)."""
    if isinstance(value, bytes):  # a BIT STRING (x500UniqueIdentifier)
        content = b"\x00" + value
        return b"\x03" + _der_length(len(content)) + content
    content = value.encode("utf-8", "surrogateescape")
    tag = 0x13 if _is_printable_string(value) else 0x0C
    return bytes([tag]) + _der_length(len(content)) + content


def _escape_value(value: str) -> str:
    out = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;' or (ch == " " and (i == 0 or i == last)) or (ch == "#" and i == 0):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def go_name_string(name: x509.Name) -> str:
    """Render a certificate name exactly as Go ``pkix.Name.String()`` (cli.md CLI-75).

    Unnamed attribute types come first in the RDN list (so last in the string) as ``<oid>=#<hex DER>``; named types
    are regrouped in Go's fixed order, several values of one type forming one multi-valued RDN.
    """
    unnamed: list[list[str]] = []
    named: dict[str, list[str]] = {}
    for attr in name:
        oid = attr.oid.dotted_string
        value = attr.value
        label = _NAMED.get(oid)
        if label is None:
            unnamed.append([f"{oid}=#{_go_marshal_value(value).hex()}"])
            continue
        if not isinstance(value, str):
            continue  # Go keeps only string values in its named fields, and skips the rest entirely
        if oid in _SINGLE_VALUED:
            named[oid] = [value]
        else:
            named.setdefault(oid, []).append(value)
    rdns: list[list[str]] = list(unnamed)
    for oid, label in _NAMED_ORDER:
        values = named.get(oid)
        if values:
            rdns.append([f"{label}={_escape_value(v)}" for v in values])
    return ",".join("+".join(rdn) for rdn in reversed(rdns))


# --------------------------------------------------------------------------------------------------------------------
# Trusted identity matching (ID-08..11)
# --------------------------------------------------------------------------------------------------------------------


def check_trusted_identities(policy_name: str, identities: Iterable[str], leaf: x509.Certificate) -> str | None:
    """Go ``verifyX509TrustedIdentities``: None when the leaf matches, else the failure message."""
    identities = list(identities)
    if WILDCARD in identities:
        return None
    trusted: list[dict[str, str]] = []
    for identity in identities:
        prefix, sep, value = identity.partition(":")
        if not sep:
            return (
                f"trust policy statement {go_quote(policy_name)} has trusted identity {go_quote(identity)} missing "
                "separator"
            )
        if prefix != X509_SUBJECT_PREFIX:
            continue
        if not value:
            return (
                f"trust policy statement {go_quote(policy_name)} has trusted identity {go_quote(identity)} without an "
                "identity value"
            )
        try:
            trusted.append(parse_distinguished_name(value))
        except InvalidDistinguishedNameError as exc:
            return str(exc)
    if not trusted:
        return f"no x509 trusted identities are configured in the trust policy {go_quote(policy_name)}"
    try:
        leaf_dn = parse_distinguished_name(go_name_string(leaf.subject))
    except InvalidDistinguishedNameError as exc:
        return f"error while parsing the certificate subject from the digital signature. error : {go_quote(str(exc))}"
    if any(is_subset_dn(identity, leaf_dn) for identity in trusted):
        return None
    return (
        "signing certificate from the digital signature does not match the X.509 trusted identities "
        f"{go_quote_dn_maps(trusted)} defined in the trust policy {go_quote(policy_name)}"
    )
