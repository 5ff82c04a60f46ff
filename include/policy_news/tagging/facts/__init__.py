"""Facts from relevant articles: agencies, programs, operations, places, counts and shares.

Analysts query these rather than re-reading articles ("how many arrests did
Operation X report, by state"), so every fact is normalised (canonical agency
names, numbers as plain decimals, state names spelled out) and keeps its
evidence. Names come from one Aho-Corasick pass (names.py) over the words of
`include/taxonomy/lexicon.yaml` (lexicon.py); the shapes a dictionary cannot list
come from a few patterns (entities.py); numbers are read in numbers.py and become
counts or shares in counts.py; context.py and claims.py add what the sentence
says around them.
"""

from policy_news.tagging.facts.extract import extract_facts

__all__ = ["extract_facts"]
