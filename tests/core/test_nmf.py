"""NNMF solvers: monotone objective, locks, stopping, generator form, initialisations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from napari_unmix.core.nmf import (
    SOLVERS,
    fit_nmf,
    iter_nmf,
    nndsvd_init,
    objective,
    random_init,
)
from napari_unmix.core.progress import run


def _problem(seed=0, n=300, c=25, k=4, noise=0.05):
    rng = np.random.default_rng(seed)
    W, H = rng.random((n, k)), rng.random((k, c))
    X = W @ H + rng.normal(0, noise, (n, c))
    return X, rng.random((n, k)), rng.random((k, c))


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize(("l1", "anchor"), [(0.0, 0.0), (0.05, 0.0), (0.0, 1.0)])
def test_objective_never_increases(solver, l1, anchor):
    X, W0, H0 = _problem()
    X = np.abs(X) if solver == "mu" else X
    locks = {"lock_H": [True, False, False, False], "lock_W": [False, False, True, False]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_nmf(X, W0, H0, solver=solver, l1_W=l1, max_iter=80, tol=0, anchor=anchor,
                      **locks)  # fmt: skip
    h = np.array(fit.history)
    assert np.all(np.diff(h) <= 1e-10 * h[0])
    # the anchor term: ½ anchor Σ_j ||W_j||² ||H_j − H0_j||² (locked rows are at H0)
    extra = 0.5 * anchor * float(((fit.W**2).sum(0) * ((fit.H - H0) ** 2).sum(1)).sum())
    assert fit.objective == pytest.approx(objective(X, fit.W, fit.H, l1_W=fit.l1) + extra, rel=1e-8)
    R = X - fit.W @ fit.H
    assert fit.relative_error == pytest.approx(np.linalg.norm(R) / np.linalg.norm(X), rel=1e-6)


def test_anchor_keeps_spectra_near_seeds_and_trades_no_scale():
    X, W0, H0 = _problem(3, noise=0.3)
    plain = fit_nmf(X, W0, H0, tol=1e-8, max_iter=3000)
    held = fit_nmf(X, W0, H0, tol=1e-8, max_iter=3000, anchor=10.0)

    def dist(H):
        return np.linalg.norm(H - H0) / np.linalg.norm(H0)

    assert dist(held.H) < 0.5 * dist(plain.H)
    # the W / H split of the seeds does not matter: (cW0, H0/c) gives the same product
    c = 7.0
    split = fit_nmf(X, c * W0, H0 / c, tol=1e-8, max_iter=3000, anchor=10.0)
    np.testing.assert_allclose(split.W @ split.H, held.W @ held.H, rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="anchor"):
        fit_nmf(X, W0, H0, anchor=-1.0)


def test_locks_keep_seeds_and_inputs_untouched():
    X, W0, H0 = _problem(1)
    W0c, H0c = W0.copy(), H0.copy()
    fit = fit_nmf(X, W0, H0, lock_H=[True, False, True, False], lock_W=[False, True, False, False])
    assert np.array_equal(fit.H[[0, 2]], H0[[0, 2]])
    assert np.array_equal(fit.W[:, 1], W0[:, 1])
    assert not np.array_equal(fit.H[1], H0[1])
    assert np.array_equal(W0, W0c) and np.array_equal(H0, H0c)


@pytest.mark.parametrize("solver", ["hals", "anls"])
def test_converges_and_a_looser_tol_stops_sooner(solver):
    X, W0, H0 = _problem(2, noise=0.0)
    fit = fit_nmf(X, W0, H0, tol=1e-5, max_iter=3000, solver=solver)
    assert fit.converged and 1 <= fit.n_iter < 3000
    loose = fit_nmf(X, W0, H0, tol=1e-1, solver=solver)
    assert loose.n_iter <= fit.n_iter
    assert fit.relative_error < 0.05


def test_warning_at_max_iter():
    X, W0, H0 = _problem(3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        fit = fit_nmf(X, W0, H0, max_iter=3, tol=0)
    assert fit.n_iter == 3 and not fit.converged


def test_generator_yields_progress_and_returns_fit():
    X, W0, H0 = _problem(4)
    gen = iter_nmf(X, W0, H0, tol=1e-6, max_iter=5000)
    steps = [next(gen) for _ in range(3)]
    assert [s.done for s in steps] == [1, 2, 3]
    assert steps[0].partial >= steps[1].partial >= steps[2].partial
    fit = run(gen)
    assert fit.n_iter >= 3 and fit.history[1:4] == [s.partial for s in steps]


def test_hals_recovers_exact_factorisation_with_known_spectra():
    rng = np.random.default_rng(5)
    W, H = rng.random((200, 3)), rng.random((3, 20))
    fit = fit_nmf(W @ H, np.full((200, 3), 0.3), H, lock_H=[True] * 3, tol=1e-10, max_iter=3000)
    np.testing.assert_allclose(fit.W, W, atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"solver": "als"}, "unknown solver"),
        ({"max_iter": 0}, "max_iter >= 1"),
        ({"lock_H": [True]}, "one flag per component"),
    ],
)
def test_bad_options(kwargs, match):
    X, W0, H0 = _problem(6)
    with pytest.raises(ValueError, match=match):
        fit_nmf(X, W0, H0, **kwargs)


def test_bad_data():
    X, W0, H0 = _problem(7)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        fit_nmf(Xn, W0, H0)
    with pytest.raises(ValueError, match="non-negative"):
        fit_nmf(X, -W0, H0)
    with pytest.raises(ValueError, match="H0 must be k x 25"):
        fit_nmf(X, W0, H0[:, :5])


def test_initialisations():
    X = np.abs(_problem(8)[0])
    W, H = nndsvd_init(X, 4)
    assert W.shape == (300, 4) and H.shape == (4, 25) and (W >= 0).all() and (H >= 0).all()
    W2, _H2 = nndsvd_init(X, 4, variant="nndsvd")
    assert (W2 == 0).any()
    a, b = random_init(X, 3, random_state=2), random_init(X, 3, random_state=2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="variant"):
        nndsvd_init(X, 2, variant="svd")


def test_blas_threads_not_limited_while_the_generator_is_suspended():
    from threadpoolctl import threadpool_info

    def threads():
        return [(d["internal_api"], d["num_threads"]) for d in threadpool_info()]

    before = threads()
    rng = np.random.default_rng(3)
    X = rng.random((300, 4)) @ rng.random((4, 20))
    gen = iter_nmf(X, rng.random((300, 4)), rng.random((4, 20)), max_iter=5)
    next(gen)
    assert threads() == before  # the one-thread limit covers each iteration only
    gen.close()
    assert threads() == before


def test_compiled_and_numpy_hals_sweeps_agree(monkeypatch):
    # scikit-learn's private compiled sweep and the numpy fallback: the same maths, with a
    # locked column, a zero spectrum (Q_jj = 0) and zeros in A
    from napari_unmix.core.nmf import solvers

    compiled = solvers._compiled_sweep()
    if compiled is None:
        pytest.skip("this scikit-learn has no compiled coordinate-descent sweep")
    rng = np.random.default_rng(9)
    A = rng.random((150, 5))
    A[rng.random(A.shape) < 0.3] = 0.0
    B = rng.random((5, 12))
    B[3] = 0.0
    P, Q = rng.random((150, 12)) @ B.T, B @ B.T
    free = np.array([True, False, True, True, True])
    order = solvers._sweep_order(free, Q, 1e-12)
    assert order.tolist() == [0, 2, 4, 4, 4]  # locked 1 and empty 3 skipped
    A1, A2 = A.copy(), A.copy()
    v1 = compiled(A1, Q, P, order)
    v2 = solvers._cd_sweep_numpy(A2, P, Q, order)
    assert v1 == pytest.approx(v2, rel=1e-12)
    np.testing.assert_allclose(A1, A2, rtol=1e-12, atol=1e-14)
    assert np.array_equal(A1[:, [1, 3]], A[:, [1, 3]]) and not np.array_equal(A1, A)
    # whole fits, locks and L1 included
    X, W0, H0 = _problem(10)
    kwargs = {"lock_H": [True, False, False, False], "lock_W": [False, False, True, False],
              "l1_W": 0.02, "anchor": 1.0, "tol": 1e-8, "max_iter": 60}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        compiled = fit_nmf(X, W0, H0, solver="hals", **kwargs)
        monkeypatch.setattr(solvers, "_compiled_sweep", lambda: None)
        fallback = fit_nmf(X, W0, H0, solver="hals", **kwargs)
    assert compiled.n_iter == fallback.n_iter
    assert compiled.objective == pytest.approx(fallback.objective, rel=1e-10)
    np.testing.assert_allclose(compiled.W, fallback.W, rtol=1e-8, atol=1e-10)
