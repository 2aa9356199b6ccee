"""``kefu bench kb``: FAISS index kinds at scale on synthetic vectors, against exact search in the same run.

Synthetic vectors are a mixture of Gaussian clusters in a 64-dimensional latent space, projected to the
encoder's width with isotropic noise and normalised: real sentence embeddings are clustered and of low
intrinsic dimension, unlike uniform random vectors, on which no approximate index works. Queries are
fresh draws from the same mixture (not copies of stored vectors). Exact ``IndexFlatIP`` gives the true top 10
and the latency baseline.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from kb.dense import HNSW_EF_CONSTRUCTION, HNSW_M, DenseIndex, Kind

LATENT = 64
POINTS_PER_CLUSTER = 50
"""Clusters grow with the base (about 50 vectors each), so density, and with it difficulty, does not
change with size: a fixed number of clusters makes large bases artificially easy for IVF."""
EF_SEARCH_STEPS = (16, 32, 64, 128, 256, 512)
NPROBE_STEPS = (4, 8, 16, 32, 64, 128, 256)
TARGET_RECALL = 0.95


def synthetic_vectors(n: int, dim: int, *, seed: int, clusters: int | None = None) -> np.ndarray:
    """``n`` unit vectors of width ``dim`` from a clustered distribution fixed by ``clusters`` (``seed`` draws the
    points)."""
    clusters = clusters or max(1, n // POINTS_PER_CLUSTER)
    layout = np.random.default_rng(12345)
    centroids = layout.standard_normal((clusters, LATENT)).astype(np.float32)
    projection = layout.standard_normal((LATENT, dim)).astype(np.float32) / np.sqrt(LATENT)
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        latent = centroids[rng.integers(0, clusters, m)] + rng.standard_normal((m, LATENT), dtype=np.float32)
        block = latent @ projection + 0.3 * rng.standard_normal((m, dim), dtype=np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def index_mb(index: DenseIndex) -> float:
    """Memory the FAISS structure holds: stored vectors plus HNSW links or IVF ids and centroids."""
    raw = index.index
    n, dim = index.vectors.shape
    size = n * dim * 4
    if index.kind == "hnsw":
        size += raw.hnsw.neighbors.size() * 4 + raw.hnsw.levels.size() * 4 + raw.hnsw.offsets.size() * 8
    elif index.kind == "ivf":
        size += n * 8 + raw.nlist * dim * 4
    return size / 2**20


def _latencies(index: DenseIndex, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-query seconds for one-at-a-time search, and the ids found."""
    ids = np.empty((len(queries), k), dtype=np.int64)
    seconds = np.empty(len(queries))
    for n, query in enumerate(queries):
        start = time.perf_counter()
        _, found = index.search(query[None, :], k)
        seconds[n] = time.perf_counter() - start
        ids[n] = found[0]
    return seconds, ids


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth, strict=True)]))


def bench_size(
    n: int,
    *,
    kinds: Sequence[Kind],
    dim: int = 512,
    queries: int = 200,
    k: int = 10,
    hnsw_m: int = HNSW_M,
    ef_construction: int = HNSW_EF_CONSTRUCTION,
    clusters: int | None = None,
) -> dict[str, Any]:
    """Build time, memory, latency and recall@k of each index kind on ``n`` vectors; Flat is the baseline.

    ``clusters`` fixes the number of clusters in the synthetic data (default: one per 50 vectors).
    """
    clusters = clusters or max(1, n // POINTS_PER_CLUSTER)
    base = synthetic_vectors(n, dim, seed=1, clusters=clusters)
    probes = synthetic_vectors(queries, dim, seed=2, clusters=clusters)
    rows: list[dict[str, Any]] = []
    truth = None
    flat_p95 = None
    order: list[Kind] = ["flat", *[kind for kind in kinds if kind != "flat"]]
    for kind in order:
        gc.collect()
        start = time.perf_counter()
        index = DenseIndex.build(base, kind=kind, device="cpu", hnsw_m=hnsw_m, ef_construction=ef_construction)
        build_s = time.perf_counter() - start
        memory_mb = index_mb(index)
        if truth is None:
            _, truth = index.index.search(probes, k)
        row: dict[str, Any] = {"kind": kind, "build_s": round(build_s, 2), "memory_mb": round(memory_mb, 1)}
        if kind == "hnsw":
            row.update(m=hnsw_m, ef_construction=ef_construction)
        row.update(_operating_point(index, probes, truth, k))
        if kind == "flat":
            flat_p95 = row["p95_ms"]
        row["speedup_vs_flat_p95"] = round(flat_p95 / row["p95_ms"], 1) if flat_p95 and row["p95_ms"] else None
        rows.append(row)
        del index
    return {
        "n": n,
        "dim": dim,
        "clusters": clusters,
        "queries": queries,
        "k": k,
        "threads": _threads(),
        "indexes": rows,
    }


def _operating_point(index: DenseIndex, probes: np.ndarray, truth: np.ndarray, k: int) -> dict[str, Any]:
    """The cheapest efSearch / nprobe reaching ``TARGET_RECALL`` (or the best tried), with its latency."""
    steps: list[dict[str, int]] = [{}]
    if index.kind == "hnsw":
        steps = [{"ef_search": ef} for ef in EF_SEARCH_STEPS]
    elif index.kind == "ivf":
        steps = [{"nprobe": p} for p in NPROBE_STEPS if p <= index.index.nlist]
    chosen: dict[str, Any] = {}
    for params in steps:
        index.set_search_params(**params)
        _latencies(index, probes[:10], k)
        seconds, found = _latencies(index, probes, k)
        chosen = {
            **params,
            "recall_at_10": round(_recall(found, truth), 4),
            "p50_ms": round(float(np.percentile(seconds, 50)) * 1e3, 3),
            "p95_ms": round(float(np.percentile(seconds, 95)) * 1e3, 3),
            "qps": round(len(seconds) / float(seconds.sum()), 1),
        }
        if chosen["recall_at_10"] >= TARGET_RECALL:
            break
    return chosen


def bench_encoder(encoder: Any, *, sentences: Sequence[str]) -> dict[str, Any]:
    """Sentences per second batched (64 at a time) against one at a time, the baseline."""
    encoder.encode(list(sentences[:4]))
    start = time.perf_counter()
    for start_n in range(0, len(sentences), 64):
        encoder.encode(list(sentences[start_n : start_n + 64]))
    batched = len(sentences) / (time.perf_counter() - start)
    single_n = min(len(sentences), 64)
    start = time.perf_counter()
    for sentence in sentences[:single_n]:
        encoder.encode([sentence])
    single = single_n / (time.perf_counter() - start)
    return {
        "encoder": encoder.name,
        "sentences": len(sentences),
        "batched_per_s": round(batched, 1),
        "single_per_s": round(single, 1),
        "batch_speedup": round(batched / single, 2),
    }


def _threads() -> int:
    import faiss

    return int(faiss.omp_get_max_threads())
