"""Reading a published release, as users do (``ice287g.load``): the loader, finding a release
(``locate``), the version scheme, releases in the repository's history, and the release in
Datasette. The publisher reads its own releases back with the same code, so this stage sits below
``publish``."""
