"""Test kit for channels: loopback fake platforms, the adapter contract suite, and the pytest plugin."""
