"""Stage 5, what is published: the versioned data package, what changed between versions, the
committed release (``data/``, ``releases.csv``, the CHANGELOG), the README's generated blocks, the
git release, the data wheel, and the release page (``site``)."""
