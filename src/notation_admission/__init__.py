"""notation-admission: Kubernetes admission (validating + mutating webhook), Gatekeeper external data provider and a
verify API, on the notation library's long-lived verifier. See docs/admission.md."""
