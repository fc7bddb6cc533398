"""SQLite storage: the connection and migrations (db), the queries by aggregate."""
