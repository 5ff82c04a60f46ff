"""PASS/FAIL lines as the checks run, and the closing `N passed, M failed` line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    passed: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)  # the detail explains a failure only
        else:
            self.failed += 1
            print(
                f"FAIL {name}"
                + (f":\n  {detail.replace(chr(10), chr(10) + '  ')}" if detail else ""),
                flush=True,
            )
        return ok

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"     {text}", flush=True)

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"
