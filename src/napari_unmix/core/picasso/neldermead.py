"""Scalar Nelder–Mead, step for step as SciPy's, as a generator (searches in lockstep)."""

from __future__ import annotations

from collections.abc import Generator

__all__ = ["nelder_mead_1d", "nelder_mead_steps"]


def nelder_mead_steps(
    x0: float, *, maxiter: int = 200, xatol: float = 1e-4, fatol: float = 1e-4
) -> Generator[float, float, float]:
    """Scalar Nelder–Mead as a generator: yields points, receives their values.

    Step for step as ``scipy.optimize.minimize(method="Nelder-Mead")`` in one dimension
    (same initial simplex, coefficients and stopping rule). As a generator, many
    independent searches can run in lockstep with their evaluations batched.
    """
    x = [x0, x0 * 1.05 if x0 != 0 else 0.00025]
    fx = [(yield x[0]), (yield x[1])]
    if fx[1] < fx[0]:
        x.reverse()
        fx.reverse()
    it = 1
    while it < maxiter:
        if abs(x[1] - x[0]) <= xatol and abs(fx[0] - fx[1]) <= fatol:
            break
        best, worst = x[0], x[1]
        xr = 2.0 * best - worst
        fr = yield xr
        if fr < fx[0]:
            xe = 3.0 * best - 2.0 * worst
            fe = yield xe
            x[1], fx[1] = (xe, fe) if fe < fr else (xr, fr)
        else:
            shrink = False
            if fr < fx[1]:
                xc = 1.5 * best - 0.5 * worst
                fc = yield xc
                if fc <= fr:
                    x[1], fx[1] = xc, fc
                else:
                    shrink = True
            else:
                xcc = 0.5 * best + 0.5 * worst
                fcc = yield xcc
                if fcc < fx[1]:
                    x[1], fx[1] = xcc, fcc
                else:
                    shrink = True
            if shrink:
                x[1] = best + 0.5 * (x[1] - best)
                fx[1] = yield x[1]
        it += 1
        if fx[1] < fx[0]:
            x.reverse()
            fx.reverse()
    return x[0]


def nelder_mead_1d(
    f, x0: float, *, maxiter: int = 200, xatol: float = 1e-4, fatol: float = 1e-4
) -> float:
    """Minimise a scalar function with :func:`nelder_mead_steps`.

    Examples
    --------
    >>> round(nelder_mead_1d(lambda x: (x - 0.3) ** 2, 0.1, xatol=1e-8, fatol=1e-12), 4)
    0.3
    """
    gen = nelder_mead_steps(x0, maxiter=maxiter, xatol=xatol, fatol=fatol)
    x = next(gen)
    while True:
        try:
            x = gen.send(f(x))
        except StopIteration as stop:
            return stop.value
