"""kb engine: a plain synchronous library (docs/architecture.md §2-3); imports nothing from bot or adapters.

from kb import build, encoders, sources
encoder = encoders.load_encoder("use-multilingual")
kb = build.open_or_build(sources.collect([store_dir]), cache_dir=data_dir / "kb", encoder=encoder)
hits = kb.search(texts, encoder.encode(texts), k=5, filters=[{"language": "zh"}] * len(texts))
"""
