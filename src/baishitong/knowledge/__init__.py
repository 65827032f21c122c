"""Knowledge base: in-memory search over articles, past cases and the service catalogue."""
