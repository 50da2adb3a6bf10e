"""Every metric against scikit-learn on known labelings."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from napari_unmix.core import metrics


def _labelings(seed, n=300, ka=3, kb=4):
    rng = np.random.default_rng(seed)
    a = rng.integers(1, ka + 1, n)
    b = np.where(rng.random(n) < 0.7, a, rng.integers(1, kb + 1, n))
    return a, b


@given(st.integers(0, 10_000))
def test_ari_matches_sklearn(seed):
    a, b = _labelings(seed)
    assert metrics.adjusted_rand_index(a, b) == pytest.approx(skm.adjusted_rand_score(a, b))


def test_ari_trivial_cases():
    one = np.zeros(5, int)
    assert metrics.adjusted_rand_index(one, one) == skm.adjusted_rand_score(one, one)
    single = np.arange(5)
    assert metrics.adjusted_rand_index(single, single) == skm.adjusted_rand_score(single, single)


def test_confusion_matches_sklearn():
    a, b = _labelings(1)
    np.testing.assert_array_equal(metrics.confusion_matrix(a, b), skm.confusion_matrix(a, b))
    labels = [1, 2]
    np.testing.assert_array_equal(
        metrics.confusion_matrix(a, b, labels=labels), skm.confusion_matrix(a, b, labels=labels)
    )


@pytest.mark.parametrize("sample_size", [None, 150])
def test_silhouette_matches_sklearn(sample_size):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(m, 1.0, (100, 5)) for m in (0, 3, 6)]) + 100.0
    lab = np.repeat([1, 2, 3], 100)
    lab[[0]] = 4  # a singleton cluster scores 0, as in scikit-learn
    ours = metrics.silhouette(X, lab, sample_size=sample_size, random_state=7, chunk=64)
    if sample_size is None:
        ref = skm.silhouette_score(X, lab)
    else:
        idx = np.sort(np.random.default_rng(7).choice(300, sample_size, replace=False))
        ref = skm.silhouette_score(X[idx], lab[idx])
    assert ours == pytest.approx(ref, abs=1e-5)


def test_agreement_matches_sklearn_after_matching():
    truth, pred = _labelings(2, ka=3, kb=3)
    pred = pred * 10  # arbitrary cluster ids
    m = metrics.agreement(pred, truth, ignore_label=None)
    mapped = np.array([m["matching"].get(str(p), -1) for p in pred])
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(truth, mapped))
    assert m["ari"] == pytest.approx(skm.adjusted_rand_score(truth, pred))
    classes = [1, 2, 3]
    prec = skm.precision_score(truth, mapped, labels=classes, average=None, zero_division=0)
    rec = skm.recall_score(truth, mapped, labels=classes, average=None, zero_division=0)
    iou = skm.jaccard_score(truth, mapped, labels=classes, average=None, zero_division=0)
    for i, c in enumerate(classes):
        pc = m["per_class"][str(c)]
        assert pc["precision"] == pytest.approx(prec[i])
        assert pc["recall"] == pytest.approx(rec[i])
        assert pc["iou"] == pytest.approx(iou[i])
    assert m["mean_iou"] == pytest.approx(iou.mean())
    np.testing.assert_array_equal(
        np.array(m["confusion"]), skm.confusion_matrix(truth, pred)[:3, 3:]
    )


def test_agreement_hungarian_beats_greedy():
    # cluster 1 overlaps both classes most; optimal matching gives it class 2
    truth = np.array([1, 1, 1, 2, 2, 2, 2])
    pred = np.array([2, 2, 1, 1, 1, 1, 1])
    m = metrics.agreement(pred, truth, ignore_label=None)
    assert m["matching"] == {"1": 2, "2": 1}
    assert m["accuracy"] == pytest.approx(6 / 7)


def test_agreement_more_clusters_than_classes_and_ignore():
    truth = np.array([0, 1, 1, 2, 2, 0])
    pred = np.array([3, 1, 1, 2, 3, 3])
    m = metrics.agreement(pred, truth)
    assert m["n_pixels"] == 4
    assert m["accuracy"] == pytest.approx(3 / 4)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: metrics.agreement(np.ones(3), np.ones(4)), "differ in size"),
        (lambda: metrics.agreement(np.ones(3), np.zeros(3)), "no labelled pixels"),
        (lambda: metrics.silhouette(np.ones((3, 2)), np.ones(3)), "number of clusters"),
        (lambda: metrics.silhouette(np.ones((3, 2)), np.ones(4)), "features"),
        (lambda: metrics.contingency(np.ones(3), np.ones(2)), "differ in size"),
    ],
)
def test_metric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
