"""FAISS inner-product index over unit vectors: exact Flat for small bases, HNSW or IVF for large ones."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

Kind = Literal["auto", "flat", "hnsw", "ivf"]
log = logging.getLogger(__name__)

EXACT_MAX = 50_000
"""Up to this many vectors ``auto`` picks exact search (a few ms per query at 512 dims on one core)."""
LARGE_KIND: Kind = "hnsw"
"""What ``auto`` picks above ``EXACT_MAX``: at 100k vectors HNSW answered in a tenth of IVF's time at the
same recall (``kefu bench kb``, docs/kb.md). It builds about 6x slower than IVF, still far less time than
encoding the chunks takes; choose ``ivf`` when rebuilding often matters more."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
"""The cheapest efSearch with recall@10 >= 0.95 against exact search at 1M vectors (p95 2.6 ms, ``kefu bench kb``);
smaller bases get more recall from it for fractions of a millisecond."""
IVF_NPROBE = 32
SMALL_BATCH = 16
"""Up to this many queries are searched on one OpenMP thread: waking a thread team costs more than a
small search, badly so on a busy CPU (about 16 ms against 0.5 ms for one query over 10k vectors here)."""
SUBSET_EXACT_MAX = 20_000
"""A filter that leaves at most this many vectors is searched exactly over that subset."""


def choose_kind(n: int, kind: Kind = "auto") -> Kind:
    """The index kind for ``n`` vectors: ``kind`` itself unless it is ``auto``."""
    if kind != "auto":
        return kind
    return "flat" if n <= EXACT_MAX else LARGE_KIND


def ivf_lists(n: int) -> int:
    """Number of IVF cells: about 4·√n, the usual FAISS guideline, at least 1 and at most n/39."""
    return max(1, min(int(4 * math.sqrt(n)), n // 39 or 1))


class DenseIndex:
    """A FAISS index plus the vectors it holds (kept for filtered exact search and exact scores)."""

    def __init__(self, index: Any, vectors: np.ndarray, kind: Kind) -> None:
        self.index = index
        self.vectors = vectors
        self.kind = kind
        self.on_gpu = False

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        *,
        kind: Kind = "auto",
        device: str = "auto",
        hnsw_m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = HNSW_EF_SEARCH,
        nlist: int | None = None,
        nprobe: int = IVF_NPROBE,
    ) -> DenseIndex:
        """An index over ``vectors`` (float32, unit rows); ``kind="auto"`` chooses by size."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        chosen = choose_kind(n, kind)
        index: faiss.Index
        if chosen == "flat":
            index = faiss.IndexFlatIP(dim)
        elif chosen == "hnsw":
            index = hnsw = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = ef_construction
            hnsw.hnsw.efSearch = ef_search
        elif chosen == "ivf":
            lists = nlist or ivf_lists(n)
            index = ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
            ivf.cp.niter = 10
            train_n = lists * 40
            sample = vectors[np.random.default_rng(0).permutation(n)[:train_n]] if n > train_n else vectors
            ivf.train(sample)
            ivf.nprobe = min(nprobe, lists)
        else:
            raise ValueError(f"unknown index kind {kind!r}: use auto, flat, hnsw or ivf")
        if n:
            index.add(vectors)
        built = cls(index, vectors, chosen)
        built.to_device(device)
        return built

    def to_device(self, device: str) -> None:
        """Move a Flat or IVF index onto the GPU when ``device`` allows it and faiss-gpu sees a GPU."""
        import faiss

        if device == "cpu" or self.kind == "hnsw" or not hasattr(faiss, "StandardGpuResources"):
            return
        if faiss.get_num_gpus() < 1:
            if device == "cuda":
                log.warning("KEFU_DEVICE=cuda but faiss sees no GPU; the index stays on the CPU")
            return
        self._gpu_resources = faiss.StandardGpuResources()
        self.index = faiss.index_cpu_to_gpu(self._gpu_resources, 0, self.index)
        self.on_gpu = True

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def set_search_params(self, *, ef_search: int | None = None, nprobe: int | None = None) -> None:
        """Trade speed for recall at query time (HNSW efSearch, IVF nprobe)."""
        if ef_search is not None and self.kind == "hnsw":
            self.index.hnsw.efSearch = ef_search
        if nprobe is not None and self.kind == "ivf":
            self.index.nprobe = nprobe

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query; ``allowed`` is a boolean mask over the vectors (None: all).

        Missing results (fewer than ``k`` candidates) have id -1.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if len(queries) > SMALL_BATCH or self.on_gpu:
            return self._search(queries, k, allowed)
        import faiss

        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._search(queries, k, allowed)
        finally:
            faiss.omp_set_num_threads(threads)

    def _search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if allowed is None:
            return self.index.search(queries, k)
        subset = np.flatnonzero(allowed)
        if len(subset) <= SUBSET_EXACT_MAX or self.on_gpu:
            return _exact_subset(self.vectors, subset, queries, k)
        import faiss

        selector = faiss.IDSelectorBatch(subset.astype(np.int64))
        # faiss's stubs declare the parameter classes without their keyword constructors (and lack the HNSW one)
        params: Any
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.index.hnsw.efSearch)  # type: ignore[attr-defined]
        elif self.kind == "ivf":
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nprobe)  # type: ignore[call-arg]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        return self.index.search(queries, k, params=params)

    def save(self, path: Path) -> None:
        import faiss

        index = faiss.index_gpu_to_cpu(self.index) if self.on_gpu else self.index
        faiss.write_index(index, str(path))

    @classmethod
    def load(cls, path: Path, vectors: np.ndarray, *, device: str = "auto") -> DenseIndex:
        import faiss

        index = faiss.read_index(str(path))
        kind: Kind = (
            "hnsw" if isinstance(index, faiss.IndexHNSW) else "ivf" if isinstance(index, faiss.IndexIVF) else "flat"
        )
        loaded = cls(index, vectors, kind)
        loaded.to_device(device)
        return loaded


def _exact_subset(
    vectors: np.ndarray, subset: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` over the rows ``subset`` of ``vectors``, padded with id -1 when the subset is small."""
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    if len(subset) == 0:
        return scores, ids
    sims = queries @ vectors[subset].T
    take = min(k, len(subset))
    top = np.argpartition(-sims, take - 1, axis=1)[:, :take]
    order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    scores[:, :take] = np.take_along_axis(sims, top, axis=1)
    ids[:, :take] = subset[top]
    return scores, ids
