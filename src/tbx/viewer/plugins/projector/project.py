"""Projections of every point of an embedding, and nearest neighbours over the original
vectors. Pure functions of numpy arrays; the long ones take a ``progress(fraction, message,
partial)`` callback that may raise to cancel.

* :func:`pca`: principal components of all rows. Exact when the smaller side of the matrix is at
  most :data:`EXACT_MAX` (eigen-decomposition of its Gram matrix, in float64 when small), else a
  randomised SVD (Halko, Martinsson & Tropp 2011: subspace iteration with 4 power steps), which
  keeps 100,000 x 768 float32 within seconds. Centred on the mean of the rows.
* :func:`custom`: coordinates along 2 or 3 directions in the original space.
* :func:`tsne` (``openTSNE``) and :func:`umap` (``umap-learn``): the ``tbx[projector]`` extra.
* :func:`neighbors`: k nearest rows by cosine or Euclidean distance, exact, over all rows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pca", "custom", "tsne", "umap", "neighbors", "EXACT_MAX", "Cancelled"]

#: Largest min(N, D) for which PCA is exact.
EXACT_MAX = 2048
_CHUNK = 65536  # rows per block when centring, so a copy of the whole matrix is never made


class Cancelled(Exception):
    """Raised by a progress callback to stop a projection."""


def _nothing(*_args) -> None:
    return None


def _flip(vectors: np.ndarray) -> np.ndarray:
    """Signs fixed: each column's entry of largest magnitude is positive."""
    idx = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[idx, np.arange(vectors.shape[1])])
    signs[signs == 0] = 1
    return vectors * signs


def _top_eigh(gram: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest ``k`` eigenvalues (descending) and eigenvectors of a symmetric matrix."""
    m = gram.shape[0]
    try:
        from scipy.linalg import eigh

        w, v = eigh(gram, subset_by_index=[m - k, m - 1])
    except ImportError:
        w, v = np.linalg.eigh(gram)
        w, v = w[m - k:], v[:, m - k:]
    return w[::-1], v[:, ::-1]


def _centered_blocks(x: np.ndarray, mean: np.ndarray, dtype):
    for start in range(0, x.shape[0], _CHUNK):
        yield start, x[start:start + _CHUNK].astype(dtype) - mean.astype(dtype)


def pca(x: np.ndarray, k: int = 10, progress=_nothing) -> dict:
    """Principal components of the rows of ``x``.

    Args:
        x: ``(N, D)`` finite floats (N >= 2).
        k: components wanted; at most ``min(N - 1, D)`` are returned.
        progress: ``progress(fraction, message, partial)``; may raise :class:`Cancelled`.

    Returns:
        ``{"coords": (N, k) float32 coordinates of the centred rows on the components,
        "components": (k, D) float64 unit directions, "variance": (k,) variance along each,
        "variance_ratio": (k,) share of the total variance, "method": "exact"|"randomized"}``.
        Each component's sign makes its largest-magnitude entry positive.

    Raises:
        ValueError: ``x`` not 2-D with at least 2 rows.
    """
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"PCA needs at least 2 points; got shape {tuple(x.shape)}")
    n, d = x.shape
    k = max(1, min(k, n - 1, d))
    mean = x.mean(axis=0, dtype=np.float64)
    total = float(sum(np.square(b, dtype=np.float64).sum()
                      for _, b in _centered_blocks(x, mean, np.float32))) / (n - 1)
    small = n * d * min(n, d) <= 2e9
    dtype = np.float64 if small else np.float32
    progress(0.1, "centring", None)
    if d <= EXACT_MAX:
        method = "exact"
        gram = np.zeros((d, d), dtype=dtype)
        for start, block in _centered_blocks(x, mean, dtype):
            gram += block.T @ block
            progress(0.1 + 0.6 * min(1.0, (start + len(block)) / n), "Gram matrix", None)
        w, v = _top_eigh(gram.astype(np.float64), k)
        components = v.T
    elif n <= EXACT_MAX:
        method = "exact"
        xc = x.astype(dtype) - mean.astype(dtype)
        w, u = _top_eigh((xc @ xc.T).astype(np.float64), k)
        components = (u.T @ xc.astype(np.float64)) / np.sqrt(np.maximum(w, 1e-300))[:, None]
    else:
        method = "randomized"
        components, w = _randomized(x, mean, k, progress)
    components = _flip(components.T).T
    progress(0.8, "projecting", None)
    coords = np.empty((n, k), dtype=np.float32)
    comp = components.astype(dtype)
    for start, block in _centered_blocks(x, mean, dtype):
        coords[start:start + len(block)] = block @ comp.T
    variance = np.maximum(w, 0) / (n - 1)
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return {"coords": coords, "components": components, "variance": variance,
            "variance_ratio": ratio, "method": method}


def _randomized(x, mean, k, progress, oversample=10, power=4, seed=0):
    """Top ``k`` right singular vectors and squared singular values of ``x - mean``."""
    n, d = x.shape
    rng = np.random.default_rng(seed)
    m32 = mean.astype(np.float32)
    q = rng.standard_normal((d, k + oversample)).astype(np.float32)

    def times(mat):  # (x - mean) @ mat, mean subtracted implicitly
        return x @ mat - m32 @ mat

    def t_times(mat):  # (x - mean).T @ mat
        return x.T @ mat - np.outer(m32, mat.sum(axis=0))

    y = times(q)
    for i in range(power):
        y, _ = np.linalg.qr(y)
        z, _ = np.linalg.qr(t_times(y))
        y = times(z)
        progress(0.1 + 0.6 * (i + 1) / power, "randomized SVD", None)
    qn, _ = np.linalg.qr(y)
    b = t_times(qn).T.astype(np.float64)  # (k + p, d) = qn.T @ (x - mean)
    _, s, vt = np.linalg.svd(b, full_matrices=False)
    return vt[:k], s[:k] ** 2


def custom(x: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Coordinates of the centred rows of ``x`` along each direction (normalised to unit
    length): ``(N, len(directions))`` float32.

    Raises:
        ValueError: not 2 or 3 directions of D numbers, or a zero or non-finite direction.
    """
    directions = np.asarray(directions, dtype=np.float64)
    if directions.ndim != 2 or directions.shape[0] not in (2, 3) \
            or directions.shape[1] != x.shape[1]:
        raise ValueError(
            f"directions must be 2 or 3 vectors of {x.shape[1]} numbers (the embedding's "
            f"dimension); got shape {tuple(directions.shape)}"
        )
    norms = np.linalg.norm(directions, axis=1)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise ValueError("each direction must be finite and nonzero (e.g. two different "
                         "groups of points)")
    unit = (directions / norms[:, None]).astype(np.float32)
    mean = x.mean(axis=0, dtype=np.float64).astype(np.float32)
    return (x @ unit.T - mean @ unit.T).astype(np.float32)


def _reduce(x: np.ndarray, dims: int, progress) -> np.ndarray:
    """PCA to ``dims`` dimensions first when wider (the usual start of t-SNE and UMAP)."""
    if x.shape[1] <= dims:
        return np.ascontiguousarray(x, dtype=np.float32)
    return pca(x, dims, lambda f, m, p: progress(0.1 * f, "PCA to " + str(dims), None))["coords"]


def tsne(x: np.ndarray, dims: int = 2, perplexity: float = 30.0, iterations: int = 500,
         seed: int = 0, progress=_nothing, threads: int = 1) -> np.ndarray:
    """t-SNE of the rows of ``x`` with openTSNE, after PCA to 50 dimensions: ``(N, dims)``
    float32. 250 early-exaggeration iterations, then ``iterations``; openTSNE picks the
    gradient method (Barnes-Hut below 10,000 points and in 3-D, FFT-accelerated above).

    ``progress`` receives the embedding so far every 25 iterations (``partial``, ``(N, dims)``)
    and may raise :class:`Cancelled`.

    Raises:
        ImportError: openTSNE is missing (``pip install 'tbx[projector]'``).
        ValueError: ``perplexity`` too large for N (needs N > 3 * perplexity).
    """
    try:
        from openTSNE import TSNE
    except ImportError:
        raise ImportError("t-SNE needs openTSNE: pip install 'tbx[projector]'") from None
    n = x.shape[0]
    if n <= 3 * perplexity:
        raise ValueError(f"perplexity must be below N / 3 = {n / 3:g} for {n} points; "
                         f"got {perplexity:g}")
    data = _reduce(x, 50, progress)
    early = 250
    total = early + iterations
    phase = {"offset": 0, "last": 0}

    def callback(iteration, error, embedding):
        if iteration < phase["last"]:  # the second phase restarts the count
            phase["offset"] = early
        phase["last"] = iteration
        done = phase["offset"] + iteration
        progress(0.1 + 0.9 * done / total, f"iteration {done}/{total}",
                 np.asarray(embedding, dtype=np.float32))
        return False

    model = TSNE(n_components=dims, perplexity=perplexity, n_iter=iterations,
                 early_exaggeration_iter=early, random_state=seed, n_jobs=threads,
                 negative_gradient_method="auto" if dims <= 2 else "bh",
                 callbacks=callback, callbacks_every_iters=25, verbose=False)
    progress(0.1, "nearest neighbours and affinities", None)
    return np.asarray(model.fit(data), dtype=np.float32)


class _EpochSink:
    """A file for umap's tqdm bar (``bar_format="{n}/{total}"``): turns writes into progress
    and lets the callback cancel between epochs."""

    def __init__(self, progress):
        self.progress = progress

    def write(self, text: str) -> None:
        done, sep, total = text.strip().partition("/")
        if sep and done.isdigit() and total.isdigit() and int(total):
            self.progress(0.3 + 0.7 * int(done) / int(total),
                          f"epoch {done}/{total}", None)

    def flush(self) -> None:
        return None


def umap(x: np.ndarray, dims: int = 2, neighbors_k: int = 15, min_dist: float = 0.1,
         seed: int = 0, progress=_nothing) -> np.ndarray:
    """UMAP of the rows of ``x`` (umap-learn), after PCA to 50 dimensions: ``(N, dims)``
    float32. Progress per epoch; ``progress`` may raise :class:`Cancelled`.

    Raises:
        ImportError: umap-learn is missing (``pip install 'tbx[projector]'``).
        ValueError: fewer than ``neighbors_k + 1`` points.
    """
    try:
        from umap import UMAP
    except ImportError:
        raise ImportError("UMAP needs umap-learn: pip install 'tbx[projector]'") from None
    if x.shape[0] <= neighbors_k:
        raise ValueError(f"UMAP with {neighbors_k} neighbours needs more than {neighbors_k} "
                         f"points; got {x.shape[0]}")
    import warnings

    warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
    data = _reduce(x, 50, progress)
    progress(0.1, "nearest neighbours", None)
    model = UMAP(n_components=dims, n_neighbors=neighbors_k, min_dist=min_dist,
                 random_state=seed, tqdm_kwds={"disable": False, "file": _EpochSink(progress),
                                               "bar_format": "{n}/{total}", "mininterval": 0.2})
    return np.asarray(model.fit_transform(data), dtype=np.float32)


def neighbors(x: np.ndarray, index: int, k: int = 10, metric: str = "cosine",
              valid: np.ndarray | None = None, norms: np.ndarray | None = None) -> list:
    """The ``k`` rows nearest to row ``index`` (itself excluded), exact, over all rows.

    Args:
        x: ``(N, D)`` float32 points.
        index: the query row, ``0 <= index < N``.
        k: how many neighbours.
        metric: ``"cosine"`` (1 - cosine similarity) or ``"euclidean"``.
        valid: ``(N,)`` bool, rows that may be returned (e.g. finite ones); default all.
        norms: ``(N,)`` float32 row norms, if already computed.

    Returns:
        ``[(row, distance), ...]`` nearest first (ties by row).

    Raises:
        ValueError: ``metric`` unknown; ``index`` out of range.
    """
    n = x.shape[0]
    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"metric must be 'cosine' or 'euclidean'; got {metric!r}")
    if not 0 <= index < n:
        raise ValueError(f"index must be in [0, {n - 1}]; got {index}")
    if norms is None:
        norms = np.linalg.norm(x, axis=1)
    q = x[index].astype(np.float32)
    dots = x @ q
    if metric == "cosine":
        denom = norms * norms[index]
        with np.errstate(invalid="ignore", divide="ignore"):
            dist = 1.0 - np.where(denom > 0, dots / denom, 0.0)
    else:
        with np.errstate(invalid="ignore", over="ignore"):  # rows of NaN/Inf: not finite
            sq = np.square(norms, dtype=np.float64) - 2.0 * dots + float(norms[index]) ** 2
            dist = np.sqrt(np.maximum(sq, 0.0))
    dist = np.asarray(dist, dtype=np.float64)
    ok = np.isfinite(dist)
    if valid is not None:
        ok &= valid
    ok[index] = False
    candidates = np.flatnonzero(ok)
    k = min(k, len(candidates))
    if k == 0:
        return []
    part = candidates[np.argpartition(dist[candidates], k - 1)[:k]]
    order = np.lexsort((part, dist[part]))
    if metric == "euclidean":  # exact distances for the few returned (no cancellation error)
        exact = np.linalg.norm(x[part].astype(np.float64) - x[index].astype(np.float64), axis=1)
        dist[part] = exact
        order = np.lexsort((part, exact))
    return [(int(part[i]), float(dist[part[i]])) for i in order]
