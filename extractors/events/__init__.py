"""Events: copies (dedup), same-event clustering, and the `newsmon cluster` file contract."""
