"""Evaluation on sets in the official DCASE layout: the report's Table 1 rows, an oracle, per-class figures."""
