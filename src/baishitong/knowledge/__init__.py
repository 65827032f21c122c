"""Knowledge base: in-memory search over articles, past cases and the service catalogue."""

from baishitong.knowledge.search import Hit, SearchIndex, Synonyms, default_synonyms

__all__ = ["Hit", "SearchIndex", "Synonyms", "default_synonyms"]
