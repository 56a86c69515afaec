"""Helpers every stage uses: CSV files written atomically, sha256 and SHA256SUMS, UTC timestamps,
and zip members inflated within a bound."""
