"""A LINE-style webhook channel for kefu: signed webhook POSTs in, the push API out."""

from kefu_line.adapter import LineAdapter, factory

__all__ = ["LineAdapter", "factory"]
