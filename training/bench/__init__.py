"""Benchmarks behind ``shopbot bench``: each section measures one part and returns markdown + plots."""
