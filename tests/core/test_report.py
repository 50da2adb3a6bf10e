import json

import numpy as np

from napari_unmix.core.report import describe_array, start_report, to_jsonable


def test_report_is_json_serialisable():
    rep = start_report(
        "x", {"alpha": np.float32(0.5), "shape": (2, 3)}, {"data": describe_array(np.zeros((2, 3)))}
    )
    text = json.dumps(rep)
    back = json.loads(text)
    assert back["parameters"] == {"alpha": 0.5, "shape": [2, 3]}
    assert back["inputs"]["data"]["shape"] == [2, 3]
    assert back["versions"]["numpy"] == np.__version__


def test_to_jsonable_handles_nan_and_nested():
    assert to_jsonable({"a": [np.nan, np.int64(3)], 1: np.bool_(True)}) == {
        "a": [None, 3],
        "1": True,
    }
