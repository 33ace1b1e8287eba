#!/usr/bin/env python3
"""Verify an Authio audit export offline (Python 3.8+, standard library only).

    curl -s -H "Authorization: Bearer $MOD" $CP/v1/audit-events/export > export.ndjson
    curl -s $CP/.well-known/jwks.json > jwks.json        # or a copy kept from when the keys were published
    python3 docs/audit-verify.py export.ndjson jwks.json [--min-count N]

Checks: every seal (checkpoint / retention cut) is a compact JWS (ES256) that verifies with a key of the JWKS and
names the export's org; the oldest event starts the chain (prev_hash = 64 zeros) or continues the latest cut; every
event's hash is SHA-256 over its fields and the previous hash (content and order), so the latest signed checkpoint
pins every event before it; each checkpoint's event is present with the signed hash and count; the export does not
end before the latest checkpoint. --min-count N: fail when the latest checkpoint counts fewer than N events (an auditor
passes the count of a checkpoint kept from an earlier export, which detects a rollback of checkpoints and tail).
The per-event MACs need the master key and are checked by the control plane (GET /v1/audit-events/verify), not here.
Use an unfiltered export. Exit 0 when it verifies, 1 with the first bad position otherwise.
"""
import base64
import hashlib
import json
import sys

GENESIS = "0" * 64
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        m = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, P) % P
    else:
        m = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (m * m - a[0] - b[0]) % P
    return (x, (m * (a[0] - x) - a[1]) % P)


def _mul(k, pt):
    acc = None
    while k:
        if k & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        k >>= 1
    return acc


def es256_ok(jwk, signing_input, sig):
    if len(sig) != 64:
        return False
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    q = (int.from_bytes(b64url(jwk["x"]), "big"), int.from_bytes(b64url(jwk["y"]), "big"))
    if (q[1] * q[1] - (q[0] ** 3 - 3 * q[0] + 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B)) % P:
        return False
    e = int.from_bytes(hashlib.sha256(signing_input).digest(), "big")
    w = pow(s, -1, N)
    pt = _add(_mul(e * w % N, G), _mul(r * w % N, q))
    return pt is not None and pt[0] % N == r


def verify_seal(jws, keys):
    h, p, s = jws.split(".")
    header = json.loads(b64url(h))
    jwk = keys.get(header.get("kid"))
    if header.get("alg") != "ES256" or jwk is None or not es256_ok(jwk, (h + "." + p).encode("ascii"), b64url(s)):
        return None
    return json.loads(b64url(p))


def dotnet_json(value):
    """System.Text.Json's default output: compact, non-ASCII and HTML-sensitive characters as uppercase \\uXXXX."""
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    out = ['"']
    for ch in value:
        c = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif c < 0x20 or c > 0x7E or ch in "\"&'+<>`":
            for unit in ([c] if c < 0x10000 else [0xD800 + ((c - 0x10000) >> 10), 0xDC00 + ((c - 0x10000) & 0x3FF)]):
                out.append("\\u%04X" % unit)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


PERSONAL = ["actor_id", "user_id", "email", "session_id", "ip", "user_agent", "details"]
VIEW_NAMES = {"actor_id": "actorId", "user_id": "userId", "email": "email", "session_id": "sessionId", "ip": "ipAddress",
              "user_agent": "userAgent", "details": "rawDetails"}


def sha256_json(items):
    return hashlib.sha256(("[" + ",".join(dotnet_json(f) for f in items) + "]").encode("utf-8")).hexdigest()


def event_hash(e):
    """Format 1: one hash over the fields. Format 2: personal fields as salted commitments, so erased ones (replaced by
    their commitment in `redacted`) still hash the same."""
    if e.get("format", 1) < 2:
        return sha256_json([e["orgId"], e["id"], e["ts"], e["event"], e.get("actorId"), e.get("userId"), e.get("email"),
                            e.get("sessionId"), e.get("ipAddress"), e.get("userAgent"), e["outcome"], e.get("rawDetails"), e["prevHash"]])
    salts = json.loads(e.get("salts") or "{}")
    redacted = json.loads(e.get("redacted") or "{}")
    parts = [2, e["orgId"], e["id"], e["ts"], e["event"], e["outcome"], e["prevHash"]]
    for name in PERSONAL:
        parts.append(redacted[name] if redacted.get(name) else sha256_json(["f", name, salts.get(name, ""), e.get(VIEW_NAMES[name])]))
    return sha256_json(parts)


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    min_count = int(argv[argv.index("--min-count") + 1]) if "--min-count" in argv else 0
    keys = {k["kid"]: k for k in json.load(open(argv[2], encoding="utf-8"))["keys"]}
    seals, events = [], []
    for line in open(argv[1], encoding="utf-8"):
        if line.strip():
            item = json.loads(line)
            (seals if "seal" in item else events).append(item)
    events.sort(key=lambda e: e["seq"])
    org = events[0]["orgId"] if events else None

    def fail(seq, why):
        print("FAIL at seq %s: %s" % (seq, why))
        return 1

    cut, checkpoints = None, []
    for s in seals:
        claims = verify_seal(s["jws"], keys)
        want = "authio-audit-cut" if s["seal"] == "cut" else "authio-audit-checkpoint"
        if claims is None or claims.get("typ") != want or (org is not None and claims.get("org") != org):
            return fail(s["throughSeq"], "the signed %s does not verify (signature, type or org)" % s["seal"])
        org = claims["org"]
        if want == "authio-audit-cut":
            cut = claims if cut is None or claims["seq"] > cut["seq"] else cut
        else:
            checkpoints.append(claims)
    pending = sorted((k for k in checkpoints if cut is None or k["seq"] > cut["seq"]), key=lambda k: k["seq"])
    latest = max((k["count"] for k in checkpoints), default=cut["count"] if cut else 0)
    if latest < min_count:
        return fail(None, "latest signed checkpoint counts %d events, fewer than the %d seen before (rollback)" % (latest, min_count))

    expected, ever = (cut["hash"], cut["count"]) if cut else (GENESIS, 0)
    checked, legacy_redacted = 0, 0
    for e in events:
        if cut and e["seq"] <= cut["seq"]:
            return fail(e["seq"], "event inside the signed retention cut")
        if pending and pending[0]["seq"] < e["seq"]:
            return fail(pending[0]["seq"], "event covered by a signed checkpoint is missing")
        if e["prevHash"] != expected:
            return fail(e["seq"], "does not link to the previous event" if checked else "events removed from the head (no matching signed cut)")
        if e.get("format", 1) < 2 and e.get("redacted"):
            # An erasure removed fields of an event from before format 2: its content cannot be recomputed (the control
            # plane's /verify checks the keyed MAC sealing the redaction); the links around it still are.
            legacy_redacted += 1
        elif event_hash(e) != e["hash"]:
            return fail(e["seq"], "content does not match its hash")
        ever += 1
        while pending and pending[0]["seq"] == e["seq"]:
            if pending[0]["hash"] != e["hash"] or pending[0]["count"] != ever:
                return fail(e["seq"], "does not match the signed checkpoint")
            pending.pop(0)
        expected, checked = e["hash"], checked + 1
    if pending:
        return fail(pending[0]["seq"], "events removed from the tail: the export ends before the signed checkpoint")
    note = "" if not legacy_redacted else " (%d erased events from before format 2: links checked, content not)" % legacy_redacted
    print("OK: %d events verified; latest signed checkpoint: %s events%s" % (checked, latest, note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
