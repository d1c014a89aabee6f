"""What users read from the warehouse: the daily digest and watchlist alerts."""
