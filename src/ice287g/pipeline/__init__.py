"""The stages put together: a build end to end and the release it writes (``build.build_release``),
adding new lists (``intake``), the checkout's lock, the fingerprint that reuses an unchanged build,
and the benchmark."""
