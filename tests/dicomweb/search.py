"""Searches a DICOMweb server with dicomweb-client as an intruder's script would:
every study, each study's series, and the metadata of each study.

usage: search.py URL USER PASSWORD
Prints "study <PatientID> <StudyInstanceUID> <StudyDate> <series>/<instances>",
"series <StudyInstanceUID> <SeriesInstanceUID> <Modality> <instances>" and
"metadata <StudyInstanceUID> <instances> <SOPClassUID of the first>".
"""
import sys

import requests
from dicomweb_client.api import DICOMwebClient

url, user, password = sys.argv[1:4]
session = requests.Session()
session.auth = (user, password)
client = DICOMwebClient(url=url, session=session)


def first(item, tag):
    return item.get(tag, {}).get("Value", ["-"])[0]


for study in client.search_for_studies():
    uid = first(study, "0020000D")
    print("study", first(study, "00100020"), uid, first(study, "00080020"), f"{first(study, '00201206')}/{first(study, '00201208')}")
    for series in client.search_for_series(study_instance_uid=uid):
        print("series", uid, first(series, "0020000E"), first(series, "00080060"), first(series, "00201209"))
    metadata = client.retrieve_study_metadata(uid)
    print("metadata", uid, len(metadata), first(metadata[0], "00080016"))
