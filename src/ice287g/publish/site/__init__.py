"""The release page (``docs/``): the page, its charts and the data dictionary."""
