"""One module per schema revision, oldest first (``0001_...``); Alembic reads them."""
