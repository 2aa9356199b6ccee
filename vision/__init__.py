"""vision engine: a plain synchronous library (docs/architecture.md §2-3); imports nothing from bot or adapters."""
