"""`policy-news` command line: the same stage functions as the DAG, no scheduler."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from policy_news.settings import Settings, get_settings


def _print_table(headers: list[str], rows: list[tuple[Any, ...]]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _settings(args: argparse.Namespace) -> Settings:
    if getattr(args, "db", None):
        # --db names a data location: staging and Data Docs live beside the file
        # unless their own env vars say otherwise.
        db = Path(args.db)
        return get_settings(db_path=db, data_dir=db.parent)
    return get_settings()


def cmd_run(args: argparse.Namespace) -> int:
    from policy_news.pipeline.runner import run_pipeline
    from policy_news.sources.registry import FeedConfigError

    settings = _settings(args)
    try:
        summary = run_pipeline(
            settings,
            Path(args.feeds) if args.feeds else None,
            limit=args.limit,
            poll_all=args.all_feeds,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except FeedConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stats = summary.stats
    print(
        f"run {summary.run_id}: {summary.outcome}; feeds ok {stats['feeds_ok']}, "
        f"failed {stats['feeds_failed']}; new items {stats['items_new']}; "
        f"articles loaded {summary.load.get('articles', 0)} "
        f"(relevant {summary.load.get('relevant', 0)}), failed {stats['articles_failed']}"
    )
    if summary.load:
        assigned = summary.load.get("stories_assigned", 0)
        created = summary.load.get("new_stories", 0)
        print(
            f"near-duplicates {summary.load.get('near_duplicates', 0)}; "
            f"stories: {created} new, {assigned - created} joined"
        )
    if summary.message:
        print(summary.message, file=sys.stderr)
        return 1
    print(f"database: {settings.db_path}  (analysts: {summary.load.get('snapshot')})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from policy_news.store import connection, reads

    settings = _settings(args)
    if not settings.db_path.exists():
        print(f"no database at {settings.db_path} yet: run `policy-news run` first")
        return 1
    with connection.open_db(settings.db_path, read_only=True) as conn:
        info = reads.status(conn)
    print(f"database: {settings.db_path}")
    for table, count in info["counts"].items():
        print(f"  {table:16} {count:>8}")
    print(f"  relevant articles {info['relevant']:>7}")
    print("last runs:")
    _print_table(
        [
            "run_id",
            "started_at",
            "outcome",
            "feeds_ok",
            "feeds_failed",
            "new",
            "loaded",
            "relevant",
            "failed",
            "quarantined",
            "checks_failed",
            "message",
        ],
        [(r[0], str(r[1])[:19], *r[2:]) for r in info["runs"]],
    )
    print("backlog (pending_items, taken first by the next runs):")
    _print_table(["reason", "items", "oldest_hours"], info["backlog"])
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from policy_news.store import connection

    settings = _settings(args)
    if args.action == "discover":
        from policy_news.sources.discover import discover_feeds

        entries = discover_feeds(args.url, settings)
        if not entries:
            print(f"no feeds found at {args.url}", file=sys.stderr)
            return 1
        import yaml

        print(yaml.safe_dump({"feeds": entries}, sort_keys=False), end="")
        return 0
    with connection.open_db(settings.db_path, read_only=True) as conn:
        rows = conn.execute(
            "SELECT feed_name, health, last_success_at, last_new_item_at, consecutive_failures, "
            "fetches, avg_items_per_fetch, coalesce(auto_disabled_reason, last_error) "
            "FROM feed_health ORDER BY health <> 'ok' DESC, feed_name"
        ).fetchall()
    _print_table(
        [
            "feed",
            "health",
            "last_success",
            "last_new_item",
            "fails",
            "fetches",
            "items/fetch",
            "reason",
        ],
        [(r[0], r[1], str(r[2] or "")[:16], str(r[3] or "")[:16], *r[4:]) for r in rows],
    )
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from policy_news.tagging.jsonl import tag_jsonl
    from policy_news.tagging.tagger import get_tagger

    tagger = get_tagger(Path(args.taxonomy) if args.taxonomy else None)
    inp = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        count = tag_jsonl(inp, out, tagger)
    except BrokenPipeError:  # `policy-news tag ... | head` closed the pipe: not an error
        sys.stderr.close()
        return 0
    finally:
        if inp is not sys.stdin:
            inp.close()
        if out is not sys.stdout:
            out.close()
    print(f"tagged {count} lines with taxonomy {tagger.version}", file=sys.stderr)
    return 0


def cmd_retag(args: argparse.Namespace) -> int:
    from datetime import date

    from policy_news.pipeline.retag import PartialRetagError, retag_stored

    try:
        result = retag_stored(
            _settings(args),
            taxonomy_path=Path(args.taxonomy) if args.taxonomy else None,
            since=date.fromisoformat(args.since) if args.since else None,
            until=date.fromisoformat(args.until) if args.until else None,
            make_current=not args.not_current,
        )
    except PartialRetagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    """Run SQL on the analyst snapshot (read-only), so a query never blocks a load."""
    import duckdb

    settings = _settings(args)
    path = Path(args.path) if args.path else settings.snapshot_path
    if not path.exists():
        print(f"no database at {path}: run the pipeline first", file=sys.stderr)
        return 1
    with duckdb.connect(str(path), read_only=True) as conn:
        try:
            relation = conn.sql(args.sql)
        except duckdb.Error as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if relation is None:
            return 0
        if args.csv:
            relation.to_df().to_csv(sys.stdout, index=False)
        else:
            _print_table(list(relation.columns), relation.fetchall())
    return 0


def cmd_html(args: argparse.Namespace) -> int:
    """Print (or save) the page an article was extracted from, from the raw-HTML archive."""
    from policy_news.store import connection, html_archive

    settings = _settings(args)
    if not settings.db_path.exists():
        print(f"no database at {settings.db_path} yet: run `policy-news run` first")
        return 1
    with connection.open_db(settings.db_path, read_only=True) as conn:
        html = html_archive.read_html(conn, settings.db_path, args.article_id)
    if html is None:
        print(f"no stored page for article {args.article_id!r}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(html)
        print(f"{len(html)} bytes written to {args.output}")
    else:
        sys.stdout.buffer.write(html)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """Rebuild the GX Data Docs from the stored check results of the last runs."""
    import webbrowser

    from policy_news.quality.data_docs import build_data_docs
    from policy_news.store import connection

    settings = _settings(args)
    with connection.open_db(settings.db_path, read_only=True) as conn:
        results = conn.execute(
            "SELECT * FROM dq_results WHERE run_id IN (SELECT run_id FROM pipeline_runs "
            "ORDER BY started_at DESC LIMIT ?)",
            [args.runs],
        ).fetch_df()
    if results.empty:
        print("no check results yet: run the pipeline first", file=sys.stderr)
        return 1
    index = build_data_docs(results, settings.docs_dir, keep_runs=args.runs)
    print(f"Data Docs: {index}")
    if args.open:
        webbrowser.open(index.as_uri())
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Export a coding sheet for reviewers, or import a filled one."""
    from datetime import date

    from policy_news.store import connection
    from policy_news.tagging import review

    settings = _settings(args)
    if not settings.db_path.exists():
        print(f"no database at {settings.db_path} yet: run `policy-news run` first")
        return 1
    if args.action == "export":
        out = Path(args.out or f"review-{date.today().isoformat()}.csv")
        since = date.fromisoformat(args.since) if args.since else None
        with connection.open_db(settings.db_path, read_only=True) as conn:
            count = review.export_sheet(conn, out, since, args.limit, args.sample)
        print(
            f"{count} articles written to {out}\n"
            "fill reviewer_relevant (yes/no), reviewer_subtopics (ids separated by ';'; blank "
            "keeps the machine's) and reviewer_note,\n"
            f"then run `policy-news review import {out} --reviewer NAME`"
        )
        return 0
    from policy_news.store.snapshot import publish_snapshot
    from policy_news.tagging.tagger import get_tagger

    fallback = get_tagger(settings.taxonomy_path).subtopic_ids
    try:
        with connection.open_db(settings.db_path) as conn:
            count = review.import_sheet(conn, Path(args.file), args.reviewer, fallback)
    except review.SheetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    publish_snapshot(settings.db_path)
    print(f"{count} decisions by {args.reviewer} stored; the analyst views now follow them")
    return 0


def _add_review_parser(sub: Any) -> None:
    from policy_news.tagging.review import SAMPLE_SIZE

    review = sub.add_parser(
        "review", help="export a coding sheet of articles to review / import the decisions"
    )
    actions = review.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export",
        help="borderline articles plus a seeded random sample of the others, as CSV",
    )
    export.add_argument("--db")
    export.add_argument("--since", help="YYYY-MM-DD: articles of this day or later")
    export.add_argument("--limit", type=int, help="at most N articles (borderline ones first)")
    export.add_argument(
        "--sample",
        type=int,
        default=SAMPLE_SIZE,
        help=f"random articles not flagged for review to add ({SAMPLE_SIZE})",
    )
    export.add_argument("--out", help="CSV file (default: review-YYYY-MM-DD.csv)")
    export.set_defaults(func=cmd_review)
    imp = actions.add_parser("import", help="store a filled sheet's decisions (all or nothing)")
    imp.add_argument("file")
    imp.add_argument("--reviewer", required=True, help="who reviewed the sheet")
    imp.add_argument("--db")
    imp.set_defaults(func=cmd_review)


def _snapshot_or_error(settings: Settings) -> Path | None:
    path = settings.snapshot_path
    if not path.exists():
        print(f"no analyst snapshot at {path}: run `policy-news run` first", file=sys.stderr)
        return None
    return path


def cmd_report(args: argparse.Namespace) -> int:
    """Write the weekly HTML report from the analyst snapshot."""
    from policy_news.reporting.queries import parse_week
    from policy_news.reporting.report import write_report

    if args.week:
        try:
            parse_week(args.week)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    settings = _settings(args)
    snapshot = _snapshot_or_error(settings)
    if snapshot is None:
        return 1
    out = Path(args.out) if args.out else settings.reports_dir
    print(f"report: {write_report(snapshot, out, week=args.week)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export the analyst tables as monthly Parquet or CSV files."""
    from datetime import date

    from policy_news.reporting.export import FORMATS, export

    if args.format not in FORMATS:
        print(f"error: --format must be one of {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"error: --since {args.since!r} is not a date like 2026-01-31", file=sys.stderr)
        return 2
    settings = _settings(args)
    snapshot = _snapshot_or_error(settings)
    if snapshot is None:
        return 1
    out = Path(args.out) if args.out else settings.exports_dir
    try:
        files = export(snapshot, out, since, args.format)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(files)} files written under {out} (columns: {out / 'README.md'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policy-news", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="fetch feeds, extract, tag, check and load once")
    run.add_argument("--feeds", help="feed registry YAML (default: include/feeds.yaml)")
    run.add_argument(
        "--db", help="DuckDB file (default: $POLICY_NEWS_DB or data/policy_news.duckdb)"
    )
    run.add_argument("--limit", type=int, help="fetch at most N new articles")
    run.add_argument(
        "--all-feeds", action="store_true", help="poll every feed now, whatever its rhythm"
    )
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", help="row counts and the last runs")
    status.add_argument("--db")
    status.set_defaults(func=cmd_status)

    feeds = sub.add_parser("feeds", help="feed health; `feeds discover URL` finds a site's feeds")
    feeds.add_argument("action", nargs="?", choices=["health", "discover"], default="health")
    feeds.add_argument("url", nargs="?")
    feeds.add_argument("--db")
    feeds.set_defaults(func=cmd_feeds)

    tag = sub.add_parser("tag", help="tag a JSONL stream (id, title, summary, text)")
    tag.add_argument("--input", default="-")
    tag.add_argument("--output", default="-")
    tag.add_argument("--taxonomy", help="taxonomy YAML (default: the bundled one)")
    tag.set_defaults(func=cmd_tag)

    query = sub.add_parser("query", help="run SQL on the read-only analyst snapshot")
    query.add_argument("sql")
    query.add_argument("--db", help="main DuckDB file; its snapshot is queried")
    query.add_argument("--path", help="query this DuckDB file instead of the snapshot")
    query.add_argument("--csv", action="store_true", help="CSV output")
    query.set_defaults(func=cmd_query)

    html = sub.add_parser("html", help="the fetched page of a stored article (raw-HTML archive)")
    html.add_argument("article_id")
    html.add_argument("--db")
    html.add_argument("-o", "--output", help="write to this file instead of stdout")
    html.set_defaults(func=cmd_html)

    docs = sub.add_parser("docs", help="rebuild the GX Data Docs from stored check results")
    docs.add_argument("--db")
    docs.add_argument("--runs", type=int, default=30, help="how many recent runs to show")
    docs.add_argument("--open", action="store_true", help="open index.html in a browser")
    docs.set_defaults(func=cmd_docs)

    retag = sub.add_parser("retag", help="re-tag stored articles from their text")
    retag.add_argument("--db")
    retag.add_argument("--taxonomy")
    retag.add_argument("--since", help="YYYY-MM-DD")
    retag.add_argument("--until", help="YYYY-MM-DD")
    retag.add_argument("--not-current", action="store_true", help="keep the current version")
    retag.set_defaults(func=cmd_retag)

    _add_review_parser(sub)

    report = sub.add_parser("report", help="write the weekly HTML report from the snapshot")
    report.add_argument("--week", help="ISO week, e.g. 2026-W05 (default: the latest data's)")
    report.add_argument("--out", help="folder (default: data/reports)")
    report.add_argument("--db", help="main DuckDB file; its snapshot is read")
    report.set_defaults(func=cmd_report)

    exports = sub.add_parser("export", help="analyst tables as monthly Parquet or CSV files")
    exports.add_argument("--since", help="YYYY-MM-DD: rows whose day is this or later")
    exports.add_argument("--format", default="parquet", help="parquet (default) or csv")
    exports.add_argument("--out", help="folder (default: data/exports)")
    exports.add_argument("--db", help="main DuckDB file; its snapshot is read")
    exports.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "feeds" and args.action == "discover" and not args.url:
        print("usage: policy-news feeds discover URL", file=sys.stderr)
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
