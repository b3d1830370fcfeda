#!/usr/bin/env python3
"""Independent verifier of cpq-oms audit evidence bundles (format version 1).

Written from docs/audit-evidence-format.md ALONE (no project source was read), to show that the
document suffices. Standard library only; Ed25519 verification is pure Python (RFC 8032 §5.1).

Usage: python3 verify_bundle.py BUNDLE.json [--public-key BASE64]
Exit 0 and `VALID: ...` on stdout; exit 1 and `INVALID: ...` on stderr (first failure, §6.1);
exit 2 on misuse, an unreadable file, or a --public-key that is not base64 of 32 bytes.
"""
import argparse, base64, binascii, datetime, hashlib, json, re, sys

# ---- Ed25519 verification, RFC 8032 §5.1 (extended coordinates, Python integers) ----
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

def _add(a, b):  # §5.1.4, a unified formula: also valid for doubling
    (x1, y1, z1, t1), (x2, y2, z2, t2) = a, b
    A, B = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    C, DD = 2 * t1 * t2 * D % P, 2 * z1 * z2 % P
    E, F, G, H = B - A, DD - C, DD + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)

def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s:
        q = _add(q, pt) if s & 1 else q
        pt, s = _add(pt, pt), s >> 1
    return q

def _eq(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0

def _recover_x(y, sign):  # §5.1.3 steps 2-4
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0  # x = 0 with sign bit 1 is a non-canonical encoding
    x = pow(x2, (P + 3) // 8, P)
    x = x * SQRT_M1 % P if (x * x - x2) % P else x
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x

def decode_point(b):  # §5.1.3; refuses y >= p (non-canonical) and non-points
    y = int.from_bytes(b, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if len(b) != 32 or y >= P:
        return None
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)

BASE = decode_point((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))  # B: y = 4/5, x even

def ed25519_verify(pub, msg, sig):  # §5.1.7, cofactorless: [S]B == R + [k]A
    if len(pub) != 32 or len(sig) != 64:
        return False
    A, R, s = decode_point(pub), decode_point(sig[:32]), int.from_bytes(sig[32:], "little")
    if A is None or R is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % L
    return _eq(_mul(s, BASE), _add(R, _mul(k, A)))

# ---- §1, §3, §4 ----
class Fail(Exception): pass
class BadNumber(str): pass  # a number token that is not a safe integer (§3 rule 5)

SAFE = 2**53 - 1
HEX64 = re.compile(r"[0-9a-fA-F]{64}")

def b64(text, n):  # standard alphabet with padding (RFC 4648 §4), exactly n bytes, canonical
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == n and base64.b64encode(raw).decode() == text else None

def unhex(text):
    return bytes.fromhex(text) if isinstance(text, str) and HEX64.fullmatch(text) else None

def leaf(data): return hashlib.sha256(b"\x00" + data).digest()
def node(left, right): return hashlib.sha256(b"\x01" + left + right).digest()

def verify_inclusion(fn, tree_size, r, path, root):  # §4.1, RFC 9162 §2.1.3.2
    if fn >= tree_size:
        return False
    sn = tree_size - 1
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:  # (entered only when fn is even)
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root

def bad_number(v, ptr=""):  # JSON pointer (RFC 6901) of the first non-safe-integer, or None
    if isinstance(v, BadNumber) or (type(v) is int and abs(v) > SAFE):
        return ptr or "/"
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, x in items:
        found = bad_number(x, ptr + "/" + str(k).replace("~", "~0").replace("/", "~1"))
        if found:
            return found
    return None

def canonical(doc):  # §3; equivalent to the rules for safe-integer documents (see report)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

def rfc3339_utc(text):  # §6.1 step 6: RFC 3339 -> UTC, six fractional digits (truncated) and Z
    if not re.fullmatch(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", text):
        return None
    try:  # Python 3.11's fromisoformat reads this form, truncating beyond 6 fractional digits
        t = datetime.datetime.fromisoformat(text.upper()).astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        return None
    return t.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

# ---- §6: shape, then the procedure of §6.1 ----
def load(raw):
    def pairs(kv):
        if len({k for k, _ in kv}) != len(kv):
            raise ValueError("duplicate member name")
        return dict(kv)
    def pconst(tok): raise ValueError(f"{tok} is not JSON")
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_float=BadNumber,
                          parse_int=lambda t: BadNumber(t) if t == "-0" else int(t), parse_constant=pconst)
    except (UnicodeDecodeError, ValueError) as e:
        raise Fail(f"the file is not a JSON document: {e}")

def shape(obj, where, spec, exact=True):
    if not isinstance(obj, dict):
        raise Fail(f"{where} is not a JSON object")
    extra = set(obj) - set(spec) if exact else set()
    for k, t in spec.items():
        if k not in obj and k != "redacted":
            raise Fail(f"{where} has no member {k}")
        if k in obj and not t(obj[k]):
            raise Fail(f"{where}.{k} has the wrong type")
    if extra:
        raise Fail(f"{where} has unexpected members: {', '.join(sorted(extra))}")

def is_str(v): return isinstance(v, str)
def is_nat(v): return type(v) is int and v >= 0
def anything(v): return True

BUNDLE = {"format": is_str, "tenantId": is_str, "resourceType": is_str, "resourceId": is_str,
          "exportedAt": is_str, "checkpoint": anything, "signingKey": anything,
          "entries": lambda v: isinstance(v, list),
          "redacted": lambda v: isinstance(v, list) and all(map(is_nat, v))}
CHECKPOINT = {"tenantId": is_str, "treeSize": is_nat, "rootHash": is_str, "issuedAt": is_str,
              "keyId": is_str, "note": is_str, "signature": is_str}
KEY = {"keyId": is_str, "algorithm": is_str, "publicKey": is_str}
ENTRY = {"leafIndex": is_nat, "leafHash": is_str, "entry": anything,
         "inclusionProof": lambda v: isinstance(v, list) and all(map(is_str, v))}

def need(ok, message):
    if not ok:
        raise Fail(message)

def verify(b, trusted_key=None):
    shape(b, "the bundle", BUNDLE)
    cp, sk = b["checkpoint"], b["signingKey"]
    shape(cp, "checkpoint", CHECKPOINT)
    shape(sk, "signingKey", KEY, exact=False)
    for i, e in enumerate(b["entries"]):
        shape(e, f"entries[{i}]", ENTRY)
    need(b["format"] == "cpq-oms/audit-evidence-bundle/v1", f"unknown format {b['format']!r}")     # 1
    need(sk["algorithm"] == "Ed25519", f"unsupported signing algorithm {sk['algorithm']!r}")       # 2
    pub = b64(sk["publicKey"], 32)                                                                 # 3
    need(pub is not None, "signingKey.publicKey is not base64 of 32 bytes")
    key_id = hashlib.sha256(pub).hexdigest()[:16]
    trusted_id = hashlib.sha256(trusted_key or b"").hexdigest()[:16]
    need(trusted_key is None or pub == trusted_key,                                                # 4
         f"signed by key {key_id}, not by the trusted key {trusted_id}")
    need(cp["keyId"] == key_id,                                                                    # 5
         f"checkpoint.keyId {cp['keyId']!r} is not the id {key_id} of the signing key")
    root, issued = unhex(cp["rootHash"]), rfc3339_utc(cp["issuedAt"])                             # 6
    need(root is not None, "checkpoint.rootHash is not 32 bytes of hex")
    need(issued is not None, "checkpoint.issuedAt is not an RFC 3339 timestamp")
    note = (f"cpq-oms/audit-checkpoint/v1\ntenant {cp['tenantId']}\nsize {cp['treeSize']}\n"
            f"root {root.hex()}\nissued {issued}\nkey {cp['keyId']}\n")
    need(note == cp["note"], "checkpoint.note does not match the checkpoint's members")
    sig = b64(cp["signature"], 64)                                                                 # 7
    need(sig is not None and ed25519_verify(pub, note.encode("utf-8"), sig),
         f"checkpoint.signature is not a valid Ed25519 signature of the note by key {key_id}")
    need(cp["tenantId"] == b["tenantId"],                                                          # 8
         f"the checkpoint is for tenant {cp['tenantId']!r}, not {b['tenantId']!r}")
    for e in b["entries"]:                                                                         # 9
        doc = e["entry"]
        aid = doc.get("auditEventId") if isinstance(doc, dict) else None
        name = f"entry at leaf {e['leafIndex']} (auditEventId {aid if isinstance(aid, str) else '?'})"
        need(isinstance(doc, dict), f"{name}: the entry is not a JSON object")                      # 9.1
        ptr = bad_number(doc)
        need(ptr is None, f"{name}: the number at {ptr} is not an integer within ±(2^53 - 1)")
        try:                                                                                       # 9.2
            data = canonical(doc)
        except UnicodeEncodeError:
            raise Fail(f"{name}: a string is not valid Unicode (unpaired surrogate)")
        res = doc["resource"] if isinstance(doc.get("resource"), dict) else {}                     # 9.3
        for field, have, want in (("tenantId", doc.get("tenantId"), b["tenantId"]),
                                  ("resource.resourceType", res.get("resourceType"), b["resourceType"]),
                                  ("resource.resourceId", res.get("resourceId"), b["resourceId"])):
            need(isinstance(have, str) and have == want,
                 f"{name}: its {field} is {have!r}, not the bundle's {want!r}")
        lh = leaf(data)                                                                            # 9.4
        need(unhex(e["leafHash"]) == lh,
             f"{name}: its content hashes to {lh.hex()}, not to the stated leaf hash {e['leafHash']}")
        path = [unhex(p) for p in e["inclusionProof"]]                                             # 9.5
        need(None not in path, f"{name}: an inclusion proof element is not 32 bytes of hex")
        need(verify_inclusion(e["leafIndex"], cp["treeSize"], lh, path, root),
             f"{name}: its inclusion proof does not lead to the signed root of size {cp['treeSize']}")
    red = b.get("redacted") or []
    return (f"{len(b['entries'])} entries of {b['resourceType']} {b['resourceId']} proved against the "
            f"checkpoint of {cp['treeSize']} entries signed by key {key_id}"
            + ("" if trusted_key is not None else " (the bundle's own key: no trusted key was given)")
            + (f"; redacted positions, not proved: {', '.join(map(str, red))}" if red else ""))

def main(argv=None):
    ap = argparse.ArgumentParser(description="Verify a cpq-oms audit evidence bundle (format v1).")
    ap.add_argument("bundle", help="the bundle JSON file")
    ap.add_argument("--public-key", help="the trusted Ed25519 public key, base64 of 32 bytes")
    args = ap.parse_args(argv)
    trusted = None if args.public_key is None else b64(args.public_key, 32)
    if args.public_key is not None and trusted is None:
        ap.error("--public-key is not base64 of 32 bytes")
    try:
        with open(args.bundle, "rb") as f:
            raw = f.read()
    except OSError as e:
        print(f"error: cannot read {args.bundle}: {e}", file=sys.stderr)
        return 2
    try:
        print("VALID: " + verify(load(raw), trusted))
        return 0
    except Fail as e:
        print(f"INVALID: {e}", file=sys.stderr)
        return 1

if __name__ == "__main__":
    sys.exit(main())
