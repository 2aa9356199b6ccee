"""Find by photo (拍照找同款): catalogue photos embedded with EfficientNet-Lite0's pooled features, searched in FAISS.

    index = PhotoIndex.build(labeller, [("LL-SH-001", jpeg), ("LL-SH-001", side_view), ("LL-BG-002", bag)])
    index.search(labeller, [shopper_photo], k=5)     # [[("LL-SH-001", 0.83), ("LL-BG-002", 0.41)]]
    index.save(folder); PhotoIndex.load(folder)

A product may have several photos; a search returns each product once, with its best photo's cosine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import ImageError
from vision.images import open_image
from vision.labels import Labeller

INDEX_FILE = "photos.faiss"
IDS_FILE = "photo_ids.json"


class PhotoIndex:
    """Inner product over unit vectors (cosine), exact: a catalogue has thousands of photos, not millions."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        import faiss

        self.ids = list(ids)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index: Any = faiss.IndexFlatIP(self.vectors.shape[1] if len(self.vectors) else 1280)
        if len(self.vectors):
            self._index.add(self.vectors)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, labeller: Labeller, items: Sequence[tuple[str, bytes]], *, batch_size: int = 16) -> PhotoIndex:
        """Embed each ``(product id, image bytes)``; an image that cannot be opened raises its ``ImageError``
        with the product named."""
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            pictures = []
            for product, data in chunk:
                try:
                    pictures.append(open_image(data).image)
                except ImageError as error:
                    raise type(error)(f"{product}: {error.reason}") from None
            vectors.append(labeller.features(pictures))
            ids += [product for product, _ in chunk]
        return cls(ids, np.concatenate(vectors) if vectors else np.zeros((0, 1280), np.float32))

    def search(self, labeller: Labeller, photos: Sequence[bytes], *, k: int = 5) -> list[list[tuple[str, float]]]:
        """The ``k`` products whose photos look most like each query photo, best first."""
        if not photos:
            return []
        queries = labeller.features([open_image(data).image for data in photos])
        return self.search_vectors(queries, k=k)

    def search_vectors(self, queries: np.ndarray, *, k: int = 5) -> list[list[tuple[str, float]]]:
        if not self.ids:
            return [[] for _ in range(len(queries))]
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), min(len(self.ids), k * 4))
        results = []
        for row_scores, row_ids in zip(scores, rows, strict=True):
            best: dict[str, float] = {}
            for score, row in zip(row_scores, row_ids, strict=True):
                if row >= 0 and self.ids[row] not in best:
                    best[self.ids[row]] = float(score)
            results.append(list(best.items())[:k])
        return results

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / INDEX_FILE))
        (folder / IDS_FILE).write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> PhotoIndex:
        import faiss

        index = faiss.read_index(str(folder / INDEX_FILE))
        ids = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
        vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
        return cls(ids, vectors)
