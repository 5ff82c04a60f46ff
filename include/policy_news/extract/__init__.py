"""Article pages to text: fetch, extract with trafilatura, language, fingerprint."""
