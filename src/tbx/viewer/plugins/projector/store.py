"""What the Projector plugin keeps between requests: the configs of each run (re-read when the
file changes), loaded embeddings (least recently used dropped past a memory budget), row norms
for neighbour search, and projection jobs (:mod:`.jobs`). Routes call these methods; nothing
here knows about HTTP."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from . import files, project
from .columns import search
from .jobs import Job, Jobs

__all__ = ["Store", "METHODS", "parse_subset"]

#: Projection methods and whether they run one at a time.
METHODS = {"pca": False, "custom": False, "tsne": True, "umap": True}
#: Loaded embeddings are kept while their matrices total at most this many bytes (at least one).
MEMORY_BUDGET = 4 << 30


def parse_subset(text: str, n: int) -> np.ndarray | None:
    """``"0-99,150,200-210"`` (inclusive ranges of row indices) -> sorted unique int64 rows;
    ``""`` -> ``None`` (every row).

    Raises:
        ValueError: not such a list, or an index outside ``[0, n)``.
    """
    if not text:
        return None
    parts = []
    for item in text.split(","):
        lo, sep, hi = item.strip().partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ValueError(
                f"subset must be row indices and ranges like '0-99,150'; got {item!r}"
            ) from None
        if not 0 <= a <= b < n:
            raise ValueError(f"subset range {item!r} is outside the rows 0..{n - 1}")
        parts.append(np.arange(a, b + 1, dtype=np.int64))
    return np.unique(np.concatenate(parts))


class Store:
    def __init__(self, memory_budget: int = MEMORY_BUDGET):
        self.memory_budget = memory_budget
        self.jobs = Jobs()
        self._lock = threading.Lock()
        self._configs: dict[str, tuple] = {}  # run -> (signatures, refs, problems)
        self._loaded: OrderedDict[tuple, files.Embedding] = OrderedDict()
        self._loading: dict[tuple, threading.Lock] = {}
        self._norms: dict[tuple, np.ndarray] = {}

    # -- configs -----------------------------------------------------------------------------
    def refs(self, run: str, run_dir: str) -> tuple[list[files.EmbeddingRef], list[str]]:
        """The embeddings of a run and the problems of its configs (cached per config file
        signature)."""
        sig = tuple(files.file_signature(files._join(run_dir, p)) for p in files.CONFIG_PLACES)
        cached = self._configs.get(run)
        if cached is not None and cached[0] == sig:
            return cached[1], cached[2]
        refs, problems = files.list_embeddings(run, run_dir) if any(sig) else ([], [])
        self._configs[run] = (sig, refs, problems)
        return refs, problems

    def ref(self, run: str, run_dir: str, name: str) -> files.EmbeddingRef:
        """Raises KeyError naming the embedding when the run's configs do not list it."""
        for r in self.refs(run, run_dir)[0]:
            if r.name == name:
                return r
        raise KeyError(f"run {run!r} has no embedding {name!r}")

    # -- loaded embeddings ------------------------------------------------------------------
    def load(self, ref: files.EmbeddingRef) -> files.Embedding:
        """The embedding read from its files (cached until a file changes).

        Raises:
            FileNotFoundError, ValueError: see :func:`.files.load_embedding`.
        """
        key = (ref, files.signature_of(ref))
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # one reader per embedding; the others wait for its result
            with self._lock:
                if key in self._loaded:
                    return self._loaded[key]
            emb = files.load_embedding(ref)
            with self._lock:
                self._loaded[key] = emb
                self._loading.pop(key, None)
                self._trim()
            return emb

    def _trim(self) -> None:
        total = sum(e.mat.nbytes for e in self._loaded.values())
        while len(self._loaded) > 1 and total > self.memory_budget:
            key, emb = self._loaded.popitem(last=False)
            total -= emb.mat.nbytes
            self._norms.pop(key, None)

    def _key(self, emb: files.Embedding) -> tuple:
        return (emb.ref, emb.signature)

    def norms(self, emb: files.Embedding) -> np.ndarray:
        key = self._key(emb)
        norms = self._norms.get(key)
        if norms is None:
            norms = np.linalg.norm(emb.mat, axis=1)
            self._norms[key] = norms
        return norms

    # -- projections -------------------------------------------------------------------------
    def project(self, emb: files.Embedding, method: str, params: dict,
                subset: np.ndarray | None = None) -> Job:
        """Start (or find cached) a projection of the finite rows of ``emb`` (only ``subset``
        rows when given). The result is ``(N, dims)`` float32, NaN for rows not projected.

        ``params``: ``pca``: none (10 components); ``custom``: ``directions`` ((2|3, D) floats);
        ``tsne``: ``dims``, ``perplexity``, ``iterations``, ``seed``; ``umap``: ``dims``,
        ``neighbors``, ``min_dist``, ``seed``.

        Raises:
            ValueError: unknown method; fewer than 2 rows to project.
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
        rows = emb.finite if subset is None else np.zeros_like(emb.finite)
        if subset is not None:
            rows[subset] = True
            rows &= emb.finite
        index = np.flatnonzero(rows)
        if len(index) < 2:
            raise ValueError(f"only {len(index)} finite points to project; need at least 2")
        digest = hashlib.sha1(index.tobytes()).hexdigest() if subset is not None else None
        frozen = tuple(sorted((k, v.tobytes() if isinstance(v, np.ndarray) else v)
                              for k, v in params.items()))
        key = (self._key(emb), method, frozen, digest)
        n = emb.mat.shape[0]
        everything = len(index) == n

        def work(progress):
            x = emb.mat if everything else emb.mat[index]
            extra = {}
            if method == "pca":
                out = project.pca(x, 10, progress)
                coords = out["coords"]
                extra = {"variance_ratio": out["variance_ratio"].tolist(),
                         "solver": out["method"]}
            elif method == "custom":
                coords = project.custom(x, params["directions"])
            elif method == "tsne":
                coords = project.tsne(x, progress=_spread(progress, index, n), **params)
            else:
                coords = project.umap(x, progress=progress, **params)
            if everything:
                full = coords
            else:
                full = np.full((n, coords.shape[1]), np.nan, dtype=np.float32)
                full[index] = coords
            extra.update(points=int(len(index)), dims=int(full.shape[1]))
            return full, extra

        return self.jobs.submit(key, work, slow=METHODS[method])

    # -- search and neighbours --------------------------------------------------------------
    def search(self, emb: files.Embedding, query: str, column: str | None = None,
               regex: bool = False) -> np.ndarray:
        """Rows whose metadata matches (see :func:`.columns.search`)."""
        return search(emb.columns, query, column, regex)

    def neighbors(self, emb: files.Embedding, index: int, k: int, metric: str) -> list:
        """Nearest finite rows of row ``index`` (see :func:`.project.neighbors`).

        Raises:
            ValueError: bad metric or index, or row ``index`` holds NaN/Inf.
        """
        if 0 <= index < len(emb.finite) and not emb.finite[index]:
            raise ValueError(f"point {index} holds NaN or Inf values: it has no neighbours")
        return project.neighbors(emb.mat, index, k, metric, valid=emb.finite,
                                 norms=self.norms(emb))

    def direction(self, emb: files.Embedding, right: str, left: str = "",
                  column: str | None = None, regex: bool = False) -> np.ndarray:
        """A direction in the original space from metadata queries (as TensorBoard's custom
        projection): mean of the points matching ``right`` minus the mean of those matching
        ``left`` (of every point when ``left`` is empty).

        Raises:
            ValueError: a query matches no finite point.
        """
        def mean_of(query):
            rows = search(emb.columns, query, column, regex)
            rows = rows[emb.finite[rows]]
            if len(rows) == 0:
                raise ValueError(f"no point matches {query!r}: no direction")
            return emb.mat[rows].mean(axis=0, dtype=np.float64)

        base = mean_of(left) if left else emb.mat[emb.finite].mean(axis=0, dtype=np.float64)
        return mean_of(right) - base


def _spread(progress, index, n):
    """Progress whose partial coordinates are spread to all N rows (NaN elsewhere)."""
    if len(index) == n:
        return progress

    def report(fraction, message, partial):
        if partial is not None:
            full = np.full((n, partial.shape[1]), np.nan, dtype=np.float32)
            full[index] = partial
            partial = full
        progress(fraction, message, partial)

    return report
