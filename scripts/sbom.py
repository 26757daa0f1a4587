#!/usr/bin/env python3
"""Writes a CycloneDX 1.5 SBOM (JSON) of honeyward from Cargo.lock: every locked crate
with its version, package URL and the SHA-256 crates.io publishes for it.

Usage: scripts/sbom.py [Cargo.lock] > honeyward.cdx.json
"""
import datetime
import json
import sys
import tomllib
import uuid

lock_path = sys.argv[1] if len(sys.argv) > 1 else "Cargo.lock"
with open(lock_path, "rb") as f:
    lock = tomllib.load(f)

packages = lock.get("package", [])
root = next((p for p in packages if p["name"] == "honeyward" and "source" not in p), None)
if root is None:
    sys.exit("no honeyward package in " + lock_path)


def ref(p):
    return f"pkg:cargo/{p['name']}@{p['version']}"


components = []
for p in sorted(packages, key=lambda p: (p["name"], p["version"])):
    if p is root:
        continue
    c = {"type": "library", "bom-ref": ref(p), "name": p["name"], "version": p["version"], "purl": ref(p)}
    if "checksum" in p:
        c["hashes"] = [{"alg": "SHA-256", "content": p["checksum"]}]
    if p.get("source", "").startswith("registry+"):
        c["externalReferences"] = [{"type": "distribution", "url": f"https://crates.io/crates/{p['name']}/{p['version']}"}]
    components.append(c)

by_name = {}
for p in packages:
    by_name.setdefault(p["name"], []).append(p)


def resolve(dep):
    # Cargo.lock writes a dependency as "name" or "name version" (or "name version (source)").
    parts = dep.split(" ")
    candidates = by_name.get(parts[0], [])
    if len(parts) > 1:
        candidates = [c for c in candidates if c["version"] == parts[1]]
    return ref(candidates[0]) if candidates else None


dependencies = [{"ref": ref(p), "dependsOn": sorted(filter(None, (resolve(d) for d in p.get("dependencies", []))))} for p in packages]

bom = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "serialNumber": f"urn:uuid:{uuid.uuid4()}",
    "version": 1,
    "metadata": {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tools": {"components": [{"type": "application", "name": "honeyward scripts/sbom.py"}]},
        "component": {"type": "application", "bom-ref": ref(root), "name": "honeyward", "version": root["version"], "purl": ref(root), "licenses": [{"license": {"id": "Apache-2.0"}}]},
    },
    "components": components,
    "dependencies": dependencies,
}
json.dump(bom, sys.stdout, indent=2)
print()
