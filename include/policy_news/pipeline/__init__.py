"""The stages as typed functions, their contracts, the one-process runner and retag."""
