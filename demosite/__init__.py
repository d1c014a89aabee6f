"""newsmon's offline demo news web: four fictional outlets serving real, attributed articles.

- corpus.json    the articles (real texts with source URL and licence), built by build_corpus.py
- site.py        pure rendering: build_site() -> {(host, path): Page}; sources_toml()
- server.py      DemoSite: a local threaded HTTP server routing by Host header
- truth.py       the planted ground truth (events, wire copy, two-URL article) for tests
- sources.toml   newsmon's source configuration for the demo outlets
"""
