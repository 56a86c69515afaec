"""Adding new lists: by hand or from a mirror (``add``), from ICE's live page (``acquire``), each
checked for plausibility first (``plausibility``)."""
