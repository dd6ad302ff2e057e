"""Benchmarks run by `scenesplit bench`; each prints its figures with the machine described."""
