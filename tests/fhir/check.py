"""Reads a FHIR server as a client would and validates what it serves.

usage: check.py BASE NHS_NUMBER R4_MODELS_DIR
- fhirclient (PyPI) reads the CapabilityStatement and searches patients by NHS number;
- every Patient, ImagingStudy, Encounter and Observation, fetched through the search
  Bundles and their next links, the CapabilityStatement and an OperationOutcome are
  validated with fhir.resources 6.4 (FHIR 4.0.1 models, installed in R4_MODELS_DIR);
- a resource and a Bundle in XML must parse and name the FHIR namespace.
Prints "capability ...", "search ...", "validated N", "xml ok".
"""
import json
import sys
import urllib.request
import xml.etree.ElementTree as ET

base, nhs, models = sys.argv[1], sys.argv[2], sys.argv[3]

from fhirclient import client
from fhirclient.models.patient import Patient as ClientPatient

smart = client.FHIRClient(settings={"app_id": "honeyward-test", "api_base": base})
capability = smart.server.capabilityStatement
print("capability", capability.software.name.replace(" ", "_"), capability.software.version, capability.fhirVersion)
found = ClientPatient.where(struct={"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{nhs}"}).perform_resources(smart.server)
print("search", len(found), found[0].name[0].family if found else "-", found[0].identifier[0].value if found else "-")

sys.path.insert(0, models)
import fhir.resources  # noqa: E402
from fhir.resources.bundle import Bundle  # noqa: E402
from fhir.resources.capabilitystatement import CapabilityStatement  # noqa: E402
from fhir.resources.operationoutcome import OperationOutcome  # noqa: E402

assert fhir.resources.__fhir_version__ == "4.0.1", fhir.resources.__fhir_version__


def get(url, accept="application/fhir+json"):
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        return e.read()


validated = 0
for kind in ["Patient", "ImagingStudy", "Encounter", "Observation"]:
    url = f"{base}/{kind}?_count=100"
    pages = 0
    while url and pages < 50:
        bundle = Bundle.parse_obj(json.loads(get(url)))
        validated += 1 + len(bundle.entry or [])
        assert all(e.resource.resource_type == kind for e in bundle.entry or []), kind
        url = next((link.url for link in bundle.link if link.relation == "next"), None)
        pages += 1
CapabilityStatement.parse_obj(json.loads(get(f"{base}/metadata")))
OperationOutcome.parse_obj(json.loads(get(f"{base}/Patient/999999")))
print("validated", validated + 2)

for path in ["/Patient/1?_format=xml", "/Patient?_count=2", "/metadata"]:
    root = ET.fromstring(get(base + path, accept="application/fhir+xml"))
    assert root.tag.startswith("{http://hl7.org/fhir}"), root.tag
print("xml ok")
