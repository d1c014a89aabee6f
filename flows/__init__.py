"""newsmon: flows."""
