"""Oracle for serialized dataset references (issue 15 point 6): daf_butler's own
DatasetRef.from_json / to_json.

Reads the JSON array of references in the file named by its first argument (written by the
Swift Butler's encodeRefs), rebuilds each with daf_butler against its default dimension
universe, and prints a JSON object: "read" — daf_butler's to_json() of each reference it read
(so the Swift side can decode them and compare), "ids" — the IDs daf_butler saw, and "made" —
references daf_butler makes itself from the specs in the file named by the second argument
(datasetType, storageClass, dimensions, dataId, run, isCalibration), with IDs by
DATAID_TYPE_RUN, for the Swift side to decode.
"""
import json
import sys

from lsst.daf.butler import DataCoordinate, DatasetIdGenEnum, DatasetRef, DatasetType, DimensionUniverse

universe = DimensionUniverse()
with open(sys.argv[1], encoding="utf-8") as handle:
    ours = json.load(handle)
read = [DatasetRef.from_json(json.dumps(item), universe=universe) for item in ours]
made = []
with open(sys.argv[2], encoding="utf-8") as handle:
    for spec in json.load(handle):
        dataset_type = DatasetType(spec["datasetType"], spec["dimensions"], spec["storageClass"], universe=universe,
                                   isCalibration=spec["isCalibration"])
        data_id = DataCoordinate.standardize(spec["dataId"], dimensions=dataset_type.dimensions)
        ref = DatasetRef(dataset_type, data_id, run=spec["run"], id_generation_mode=DatasetIdGenEnum.DATAID_TYPE_RUN)
        made.append(json.loads(ref.to_json()))
print(json.dumps({
    "read": [json.loads(ref.to_json()) for ref in read],
    "ids": [str(ref.id) for ref in read],
    "dataIds": [{k: v for k, v in ref.dataId.required.items()} for ref in read],
    "made": made,
}))
