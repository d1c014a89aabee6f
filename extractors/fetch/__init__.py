"""Acquisition: the HTTP client (robots.txt, per-host gate, decoding), feed and sitemap
parsing, discovery of candidate pages, URL canonicalisation, the sources config and errors."""
