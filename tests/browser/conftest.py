"""Browser tests: the fixtures (``browser``, ``live_server``, ``page``, ``phone``,
``sign_in``) are in :mod:`edu_guard.testing`, so any folder's tests may use them."""
