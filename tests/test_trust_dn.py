"""DN parsing, Go subject rendering and trusted-identity matching (trust.md ID-01..11, cli.md CLI-75)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from notation._internal.x509.dn import (
    InvalidDistinguishedNameError,
    check_trusted_identities,
    go_name_string,
    go_quote,
    go_quote_dn_maps,
    is_subset_dn,
    parse_distinguished_name,
    parse_ldap_dn,
)
from support import pki

HINT = "A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard"


@pytest.mark.parametrize(
    ("dn", "expected"),
    [
        ("C=US, ST=WA, O=acme", {"C": "US", "ST": "WA", "O": "acme"}),
        ("C=US,ST=WA,O=acme,OU=Tools,CN=x", {"C": "US", "ST": "WA", "O": "acme", "OU": "Tools", "CN": "x"}),
        # ID-04: ';' separates RDNs, later '=' belong to the value
        ("C=US;ST=WA;O=x=y", {"C": "US", "ST": "WA", "O": "x=y"}),
        # escaped comma, plus, backslash, quote, hash
        (r"C=US, ST=WA, O=a\,b\+c\\d\"e\#f", {"C": "US", "ST": "WA", "O": 'a,b+c\\d"e#f'}),
        # hex escapes (one byte each) can form UTF-8
        (r"C=US, ST=WA, O=\41cme \c3\a9", {"C": "US", "ST": "WA", "O": "Acme é"}),
        # leading/trailing unescaped spaces removed, an escaped trailing space kept
        ("  C =  US  ,ST=WA, O=acme\\ ", {"C": "US", "ST": "WA", "O": "acme "}),
        # ID-05: S is ST
        ("C=US, S=WA, O=acme", {"C": "US", "ST": "WA", "O": "acme"}),
        # Go tests the stored value for "", so an empty value may be repeated
        ("C=US, ST=WA, O=acme, OU=, OU=x", {"C": "US", "ST": "WA", "O": "acme", "OU": "x"}),
        # other characters are literal (go-ldap 3.4.10)
        ("C=US, ST=WA, O=a<b>", {"C": "US", "ST": "WA", "O": "a<b>"}),
    ],
)
def test_id04_parse_valid(dn: str, expected: dict[str, str]) -> None:
    assert parse_distinguished_name(dn) == expected


@pytest.mark.parametrize(
    ("dn", "message"),
    [
        (
            "C=US, ST=WA, O=#0403414243",
            'unsupported distinguished name (DN) "C=US, ST=WA, O=#0403414243": notation does not support x509.subject '
            'identities containing "=#"',
        ),
        (",,,", f'parsing distinguished name (DN) ",,," failed with err: incomplete type, value pair. {HINT}'),
        (
            "C=US, ST",
            'parsing distinguished name (DN) "C=US, ST" failed with err: DN ended with incomplete type, value pair. '
            + HINT,
        ),
        (
            "C=US,",
            'parsing distinguished name (DN) "C=US," failed with err: DN ended with incomplete type, value pair. '
            + HINT,
        ),
        (
            r"C=US, ST=WA, O=a\zz",
            'parsing distinguished name (DN) "C=US, ST=WA, O=a\\\\zz" failed with err: '
            "failed to decode escaped character: "
            f"encoding/hex: invalid byte: U+007A 'z'. {HINT}",
        ),
        (
            "C=US, ST=WA, O=a\\",
            'parsing distinguished name (DN) "C=US, ST=WA, O=a\\\\" failed with err: got corrupted escaped character: '
            f"'a\\'. {HINT}",
        ),
        (
            "C=US, ST=WA, O=x, OU=a+CN=b",
            'distinguished name (DN) "C=US, ST=WA, O=x, OU=a+CN=b" has multi-valued RDN attributes, '
            "remove multi-valued RDN attributes as they are not supported",
        ),
        (
            "C=US, ST=WA, O=x, C=CA",
            'distinguished name (DN) "C=US, ST=WA, O=x, C=CA" has duplicate RDN attribute for "C", DN can only have '
            "unique RDN attributes",
        ),
        (
            "C=US, S=WA, ST=OR, O=x",
            'distinguished name (DN) "C=US, S=WA, ST=OR, O=x" has duplicate RDN attribute for "ST", DN can only have '
            "unique RDN attributes",
        ),
        (
            "C=US, ST=WA",
            'distinguished name (DN) "C=US, ST=WA" has no mandatory RDN attribute for "O", it must contain \'C\', '
            "'ST' or 'S', and 'O' RDN attributes at a minimum",
        ),
        (
            "ST=WA, O=x",
            'distinguished name (DN) "ST=WA, O=x" has no mandatory RDN attribute for "C", it must contain \'C\', '
            "'ST' or 'S', and 'O' RDN attributes at a minimum",
        ),
        (
            "  ",
            'distinguished name (DN) "  " has no mandatory RDN attribute for "C", it must contain \'C\', '
            "'ST' or 'S', and 'O' RDN attributes at a minimum",
        ),
        # types are case-sensitive: lower-case c is not C
        (
            "c=US, ST=WA, O=x",
            'distinguished name (DN) "c=US, ST=WA, O=x" has no mandatory RDN attribute for "C", it must contain \'C\', '
            "'ST' or 'S', and 'O' RDN attributes at a minimum",
        ),
    ],
)
def test_id04_to_06_parse_errors(dn: str, message: str) -> None:
    with pytest.raises(InvalidDistinguishedNameError) as exc:
        parse_distinguished_name(dn)
    assert str(exc.value) == message


def test_ldap_multi_valued_structure() -> None:
    assert parse_ldap_dn("A=1+B=2,C=3") == [[("A", "1"), ("B", "2")], [("C", "3")]]
    assert parse_ldap_dn("") == []


def test_id07_subset_semantics() -> None:
    a = {"C": "US", "ST": "WA", "O": "acme"}
    b = {"C": "US", "ST": "WA", "O": "acme", "OU": "x"}
    assert is_subset_dn(a, b)
    assert not is_subset_dn(b, a)
    assert not is_subset_dn({"C": "US", "ST": "WA", "O": "ACME"}, b)  # case-sensitive values


def _name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (pki.name("test"), "CN=test,O=Notary,L=Seattle,ST=WA,C=US"),
        # named types regrouped in Go's order regardless of certificate order
        (
            _name((NameOID.COMMON_NAME, "x"), (NameOID.ORGANIZATION_NAME, "o"), (NameOID.COUNTRY_NAME, "US")),
            "CN=x,O=o,C=US",
        ),
        # several OU values: one multi-valued RDN; CN keeps only the last value
        (
            _name(
                (NameOID.COUNTRY_NAME, "US"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "a"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "b"),
                (NameOID.COMMON_NAME, "first"),
                (NameOID.COMMON_NAME, "last"),
            ),
            "CN=last,OU=a+OU=b,C=US",
        ),
        # escaping: specials anywhere, leading '#', leading/trailing space
        (
            _name(
                (NameOID.ORGANIZATION_NAME, '#a,b+c"d\\e<f>g;h '),
            ),
            'O=\\#a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\ ',
        ),
        (
            _name(
                (NameOID.ORGANIZATION_NAME, " x"),
            ),
            "O=\\ x",
        ),
        # unnamed types: <oid>=#<hex DER>, placed last in the string
        (
            _name((NameOID.EMAIL_ADDRESS, "a@b.c"), (NameOID.COUNTRY_NAME, "US")),
            "C=US,1.2.840.113549.1.9.1=#0c056140622e63",
        ),
        (
            _name(
                (NameOID.DOMAIN_COMPONENT, "example"),
            ),
            "0.9.2342.19200300.100.1.25=#13076578616d706c65",
        ),
    ],
)
def test_cli75_go_name_string(name: x509.Name, expected: str) -> None:
    assert go_name_string(name) == expected


def test_go_quote() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("tab\there\n") == '"tab\\there\\n"'
    assert go_quote("é") == '"é"'
    assert go_quote("\x01") == '"\\x01"'
    assert go_quote_dn_maps([{"O": "x", "C": "US", "ST": "WA"}, {"C": "DE", "O": "y", "ST": "BY"}]) == (
        '[map["C":"US" "O":"x" "ST":"WA"] map["C":"DE" "O":"y" "ST":"BY"]]'
    )


# ------------------------------------------------------------------------------------------------ identity matching


@pytest.fixture(scope="module")
def leaf() -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Seattle"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wabbit-networks.io"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Security Tools"),
            x509.NameAttribute(NameOID.COMMON_NAME, "net-monitor"),
        ]
    )
    return pki.self_signed_leaf("net-monitor", subject=subject).cert


@pytest.mark.parametrize(
    "identities",
    [
        ["*"],
        ["x509.subject: C=US, ST=WA, O=wabbit-networks.io"],
        ["x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools"],
        ["x509.subject:CN=net-monitor,OU=Security Tools,O=wabbit-networks.io,L=Seattle,S=WA,C=US"],
        ["x509.subject: C=US, ST=WA, O=other", "x509.subject: C=US, ST=WA, O=wabbit-networks.io, CN=net-monitor"],
        ["plugin.x: whatever", "x509.subject: C=US, ST=WA, O=wabbit-networks.io"],
    ],
)
def test_id08_match(leaf: x509.Certificate, identities: list[str]) -> None:
    assert check_trusted_identities("p", identities, leaf) is None


def test_id08_11_mismatch_message(leaf: x509.Certificate) -> None:
    got = check_trusted_identities("wabbit", ["x509.subject: C=US, ST=WA, O=Wabbit-Networks.io"], leaf)
    assert got == (
        "signing certificate from the digital signature does not match the X.509 trusted identities "
        '[map["C":"US" "O":"Wabbit-Networks.io" "ST":"WA"]] defined in the trust policy "wabbit"'
    )


def test_id10_only_other_prefixes(leaf: x509.Certificate) -> None:
    assert check_trusted_identities("p", ["plugin.x: y"], leaf) == (
        'no x509 trusted identities are configured in the trust policy "p"'
    )


@pytest.mark.parametrize(
    ("subject", "fragment"),
    [
        # no ST: never matches
        (
            _name((NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "acme"), (NameOID.COMMON_NAME, "x")),
            'has no mandatory RDN attribute for \\"ST\\"',
        ),
        # emailAddress renders as =#hex
        (
            _name(
                (NameOID.COUNTRY_NAME, "US"),
                (NameOID.STATE_OR_PROVINCE_NAME, "WA"),
                (NameOID.ORGANIZATION_NAME, "acme"),
                (NameOID.EMAIL_ADDRESS, "a@b.c"),
            ),
            'notation does not support x509.subject identities containing \\"=#\\"',
        ),
        # two OU values: multi-valued RDN
        (
            _name(
                (NameOID.COUNTRY_NAME, "US"),
                (NameOID.STATE_OR_PROVINCE_NAME, "WA"),
                (NameOID.ORGANIZATION_NAME, "acme"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "a"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "b"),
            ),
            "has multi-valued RDN attributes",
        ),
    ],
)
def test_id09_unmatchable_leaf_subjects(subject: x509.Name, fragment: str) -> None:
    cert = pki.self_signed_leaf("x", subject=subject).cert
    got = check_trusted_identities("p", ["x509.subject: C=US, ST=WA, O=acme"], cert)
    assert got is not None
    assert got.startswith('error while parsing the certificate subject from the digital signature. error : "')
    assert fragment in got
    # the wildcard still matches anything
    assert check_trusted_identities("p", ["*"], cert) is None
