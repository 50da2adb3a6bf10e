"""STNMF dock: the worker yields a bounded number of progress updates.

napari's progress bar processes Qt events on every update; one update per (very fast)
iteration made the shown window recurse until Python aborted.
"""

from napari_unmix.core.progress import run
from napari_unmix.core.synthetic import make_ste_sparse
from napari_unmix.widgets.stnmf.worker import (
    MAX_PROGRESS_UPDATES,
    factorize_steps,
    progress_step,
)


def test_progress_updates_are_bounded():
    ste, _ = make_ste_sparse(n_spikes=500, grid=8, random_state=1)
    params = {"r": 4, "num_iter": 250}
    events = []
    result = run(factorize_steps(ste, params), events.append)
    values = [e.done for e in events]
    assert len(values) <= MAX_PROGRESS_UPDATES + 1
    assert len(values) == 1 + 250 // progress_step(250)  # the total the widget announces
    assert values[0] == 0 and values == sorted(values) and values[-1] <= 250
    assert result.modules.shape[0] == 4


def test_progress_step():
    assert progress_step(1) == 1
    assert progress_step(100) == 1
    assert progress_step(1000) == 10
    assert progress_step(1001) == 11
