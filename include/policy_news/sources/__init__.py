"""Where articles come from: the feed registry, feed fetching and parsing, discovery, URL identity."""
