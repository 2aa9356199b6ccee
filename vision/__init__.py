"""vision engine: a plain synchronous library (DESIGN §2-3); imports nothing from bot or adapters."""
