"""Near-duplicates (one wire story, many outlets) and stories (one event, many articles).

Pure entry points: `find_near_duplicates`, `assign_stories`, `rebuild_stories`;
their DuckDB side for the loader and retag: `update_near_duplicates`,
`update_stories`, `rebuild_all_stories` in `policy_news.stories.persistence`.
"""
