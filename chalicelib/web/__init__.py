"""The web console (營業人 and 稽徵機關 screens): server-rendered pages over the same use cases the
JSON API calls. Views live in one module per area (``blueprints`` lists them); ``pages.page`` is
their one decorator."""
