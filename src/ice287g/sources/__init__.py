"""Stage 1, what the package is built from: the registries of ICE's lists and of the reference
tables (``sources/*.csv``), what a list's file name claims, the checksum-addressed store, and
downloads that cannot hang or flood the machine."""
