"""Printing the bench: progress lines, plain-text tables, sections that fail on their own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def say(message: str = "") -> None:
    print(message, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


class SectionRunner:
    """Runs bench sections; a failing one is recorded in results["errors"] and skipped."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results

    def run(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:  # one broken section must not hide the others' figures
            message = f"{type(exc).__name__}: {exc}"
            self.results.setdefault("errors", {})[name] = message[-4000:]
            say(f"!! {name} failed: {message[-1500:]}")
            return None
