"""newsmon: extractors."""
