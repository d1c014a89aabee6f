"""Content: article extraction with trafilatura, text cleaning, and the facets of an article
(actors, places, dates: who / where / when)."""
