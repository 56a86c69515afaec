"""Stage 4, the gate: the published tables' contract read from the marts' YAML, the Great
Expectations suites generated from it, the gate that runs them, and the match rates it reports."""
