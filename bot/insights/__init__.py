"""Insights for the shop: per-turn facts kept with the turns, hourly rollups, and the figures of ``/ops`` and
``kefu report`` computed from them."""
