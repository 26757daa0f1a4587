#!/usr/bin/env bash
# The SBOMs of honeyward, from Cargo.lock, by the Rust ecosystem's SBOM tools:
#   scripts/sbom.sh OUT_DIR
# OUT_DIR/honeyward.cdx.json   CycloneDX 1.5, by cargo-cyclonedx (the CycloneDX
#                              project's own): every crate of every target the build
#                              can use (dev-dependencies, which only tests link, apart),
#                              each with its package URL, licence and the SHA-256 from
#                              Cargo.lock (the checksum crates.io publishes).
# OUT_DIR/honeyward.spdx.json  SPDX 2.3, by cargo-sbom. It gives no checksums and leaves
#                              out build dependencies (among them openssl-src, the
#                              OpenSSL compiled into the binary), so both are added here
#                              from the CycloneDX document: SHA256 checksums on every
#                              package, and the missing crates as BUILD_DEPENDENCY_OF
#                              honeyward. Also made valid for the SPDX project's own
#                              validator (pyspdxtools): download locations as crates.io
#                              URLs, Cargo.lock's file entry once. The document date is
#                              SOURCE_DATE_EPOCH's.
# Both tools come from crates.io: cargo install --locked cargo-cyclonedx cargo-sbom.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/sbom.sh OUT_DIR}
mkdir -p "$out"
for tool in cargo-cyclonedx cargo-sbom; do
  command -v "$tool" >/dev/null 2>&1 || { echo "scripts/sbom.sh: $tool is missing (cargo install --locked $tool)" >&2; exit 1; }
done
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# cargo-cyclonedx writes beside Cargo.toml; a name of this run's own, moved at once.
name="honeyward-sbom-$$"
cargo cyclonedx --quiet --format json --spec-version 1.5 --target all --override-filename "$name"
mv "$name.json" "$out/honeyward.cdx.json"
spdx=$(mktemp)
trap 'rm -f "$spdx"' EXIT
cargo sbom --output-format spdx_json_2_3 >"$spdx"

python3 - "$spdx" "$out/honeyward.cdx.json" "$out/honeyward.spdx.json" <<'PY'
import datetime, json, os, re, sys

spdx_in, cdx_path, spdx_out = sys.argv[1:4]
spdx = json.load(open(spdx_in))
cdx = json.load(open(cdx_path))
sha = {}
for c in cdx.get("components", []):
    for h in c.get("hashes", []):
        if h.get("alg") == "SHA-256":
            sha[(c["name"], c["version"])] = h["content"]

def spdx_id(name, version):
    return "SPDXRef-Package-" + re.sub(r"[^A-Za-z0-9.-]", "-", f"{name}-{version}")

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"

def download(name, version):
    # Where the .crate with that checksum comes from (SPDX wants a URL, not cargo's source id).
    return f"https://crates.io/api/v1/crates/{name}/{version}/download"

listed = set()
for p in spdx["packages"]:
    if p.get("downloadLocation") == CRATES_IO:
        p["downloadLocation"] = download(p["name"], p["versionInfo"])
    key = (p["name"], p.get("versionInfo", ""))
    listed.add(key)
    if key in sha:
        p["checksums"] = [{"algorithm": "SHA256", "checksumValue": sha[key]}]
root = next(p for p in spdx["packages"] if p["name"] == "honeyward")
for c in cdx.get("components", []):
    key = (c["name"], c["version"])
    if key in listed or key not in sha:
        continue
    package = {
        "SPDXID": spdx_id(*key),
        "name": c["name"],
        "versionInfo": c["version"],
        "downloadLocation": download(c["name"], c["version"]),
        "checksums": [{"algorithm": "SHA256", "checksumValue": sha[key]}],
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": c["purl"]}],
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": (c.get("licenses") or [{}])[0].get("expression", "NOASSERTION"),
    }
    spdx["packages"].append(package)
    spdx["relationships"].append({"spdxElementId": package["SPDXID"], "relationshipType": "BUILD_DEPENDENCY_OF", "relatedSpdxElement": root["SPDXID"]})
    listed.add(key)
# cargo-sbom writes Cargo.lock's file entry twice; SPDX ids must be unique.
files = {}
for f in spdx.get("files", []):
    files.setdefault(f["SPDXID"], f)
spdx["files"] = list(files.values())
spdx["relationships"].append({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": root["SPDXID"]})
when = datetime.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), datetime.timezone.utc)
spdx["creationInfo"]["created"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
spdx["name"] = "honeyward"
with open(spdx_out, "w") as f:
    json.dump(spdx, f, indent=2, sort_keys=True)
    f.write("\n")
PY
echo "$out/honeyward.cdx.json $out/honeyward.spdx.json"
