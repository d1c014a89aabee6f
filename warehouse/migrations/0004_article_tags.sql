-- 0004: keep the categories and tags a page declares about itself (meta keywords,
-- article:tag, JSON-LD keywords), next to newsmon's own keywords.

ALTER TABLE articles ADD COLUMN tags VARCHAR[];
