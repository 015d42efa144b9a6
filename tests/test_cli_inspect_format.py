"""Rendering of ``notation inspect`` (CLI-72..75): Go time layouts, fmt.Sprint of attribute values, JSON shape."""

from __future__ import annotations

import datetime as dt

from notation._internal.cli.inspect import ansic, render_text, rfc3339, to_json
from notation._internal.oci.descriptor import Descriptor
from notation._internal.workflows.inspect import (
    CertificateSummary,
    InspectResult,
    SignatureSummary,
    TimestampSummary,
    go_sprint,
)

PLUS7 = dt.timezone(dt.timedelta(hours=7))


def test_ansic_pads_the_day_with_a_space_cli73() -> None:
    assert ansic(dt.datetime(2026, 11, 1, 9, 5, 3, tzinfo=dt.UTC)) == "Sun Nov  1 09:05:03 2026"
    assert ansic(dt.datetime(2026, 11, 28, 10, 24, 31, tzinfo=PLUS7)) == "Sat Nov 28 10:24:31 2026"


def test_rfc3339_keeps_the_offset_cli73() -> None:
    assert rfc3339(dt.datetime(2026, 11, 28, 10, 26, 29, tzinfo=dt.UTC)) == "2026-11-28T10:26:29Z"
    assert rfc3339(dt.datetime(2026, 11, 28, 10, 26, 29, tzinfo=PLUS7)) == "2026-11-28T10:26:29+07:00"
    minus = dt.timezone(-dt.timedelta(hours=3, minutes=30))
    assert rfc3339(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=minus)) == "2026-01-02T03:04:05-03:30"


def test_go_sprint_of_json_values() -> None:
    assert go_sprint("text") == "text"
    assert go_sprint(True) == "true"
    assert go_sprint(3.0) == "3"
    assert go_sprint(1.5) == "1.5"
    assert go_sprint(1e21) == "1e+21"
    assert go_sprint(None) == "<nil>"
    assert go_sprint(["a", 1.0]) == "[a 1]"
    assert go_sprint({"b": 2.0, "a": "x"}) == "map[a:x b:2]"


def _summary(**kw: object) -> SignatureSummary:
    cert = CertificateSummary("ab" * 32, "CN=leaf", "CN=root", dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    values: dict[str, object] = {
        "media_type": "application/jose+json",
        "digest": "sha256:" + "1" * 64,
        "signature_algorithm": "ECDSA-SHA-384",
        "signing_scheme": "notary.x509",
        "signing_time": dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=PLUS7),
        "expiry": None,
        "extended_attributes": (("io.example.flag", "true"),),
        "user_defined_attributes": {},
        "signing_agent": None,
        "timestamp": TimestampSummary(error="failed to parse timestamp countersignature: bad token"),
        "certificates": (cert,),
        "signed_artifact": Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "2" * 64, 7),
    }
    values.update(kw)
    return SignatureSummary(**values)  # type: ignore[arg-type]


def test_json_shape_nulls_and_sorted_maps_cli74() -> None:
    result = InspectResult("reg/app@sha256:" + "2" * 64, "application/vnd.oci.image.manifest.v1+json", [_summary()])
    sig = to_json(result)["Signatures"][0]
    assert sig["userDefinedAttributes"] is None
    assert sig["signedAttributes"] == {
        "io.example.flag": "true",
        "signingScheme": "notary.x509",
        "signingTime": "2026-03-04T05:06:07+07:00",
    }
    assert list(sig["signedAttributes"]) == sorted(sig["signedAttributes"])
    assert sig["unsignedAttributes"] == {
        "timestampSignature": {"error": "failed to parse timestamp countersignature: bad token"}
    }


def test_text_tree_attribute_order_and_timestamp_error_cli72() -> None:
    result = InspectResult("reg/app@sha256:" + "2" * 64, "application/vnd.oci.image.manifest.v1+json", [_summary()])
    text = render_text(result)
    assert (
        "        ├── signed attributes\n"
        "        │   ├── signingScheme: notary.x509\n"
        "        │   ├── signingTime: Wed Mar  4 05:06:07 2026\n"
        "        │   └── io.example.flag: true\n"
        "        ├── user defined attributes\n"
        "        │   └── (empty)\n"
        "        ├── unsigned attributes\n"
        "        │   └── timestamp signature\n"
        "        │       └── error: failed to parse timestamp countersignature: bad token\n"
        "        ├── certificates\n"
        f"        │   └── SHA256 fingerprint: {'ab' * 32}\n"
        "        │       ├── issued to: CN=leaf\n"
        "        │       ├── issued by: CN=root\n"
        "        │       └── expiry: Sat Jan  2 03:04:05 2027\n"
    ) in text


def test_empty_unsigned_attributes_have_no_children_cli72() -> None:
    result = InspectResult("r@sha256:" + "2" * 64, "m", [_summary(timestamp=None)])
    assert "        ├── unsigned attributes\n        ├── certificates\n" in render_text(result)
    assert to_json(result)["Signatures"][0]["unsignedAttributes"] == {}
