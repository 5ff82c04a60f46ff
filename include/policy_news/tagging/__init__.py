"""Relevance, subtopics and facts from an article's text, driven by the taxonomy YAML."""
