"""Alembic migrations of the store's schema, shipped inside the package.

`boardcc.store.database.upgrade` runs them to the newest revision at every start; nobody
needs an ``alembic.ini``. ``env.py`` is Alembic's environment, ``versions/`` holds one
module per revision, ``script.py.mako`` is the template for new ones (docs/store.md).
"""
