"""Measure guide search on labelled question sets (tests, the benchmark, calibration).

A labelled row is a JSON object with ``q`` and ``slug`` (null when no guide should
answer) and, in the real-question sets, ``alt_slugs`` (acceptable alternatives). A
label may name a guide the library does not have (yet): it then falls back to its first
alternative that exists, and a row left with none counts as out of scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.search import Answer, GuideIndex, SearchResult


def load_rows(path: Path) -> list[dict[str, object]]:
    """Read one JSON object per line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@dataclass(frozen=True)
class Label:
    """What a row expects, resolved against a library."""

    slug: str | None  # the right guide, None when out of scope
    acceptable: frozenset[str]  # every guide that counts as right (slug and alternatives)


# Guides split since the written sets (faq_*.jsonl) were labelled: a question labelled
# with the old guide may be answered by one of the guides that took over part of it.
SUCCESSORS: dict[str, tuple[str, ...]] = {
    "vneid-quen-mat-khau": ("vneid-doi-dien-thoai", "vneid-loi-dang-nhap"),
    "vneid-kich-hoat": ("vneid-tin-nhan-phe-duyet",),
    "vneid-cai-dat": ("vneid-muc-2", "vneid-doi-dien-thoai"),
    "dia-chi-sau-sap-nhap": ("can-cuoc-cap-doi", "xac-nhan-cu-tru", "chinh-quyen-hai-cap"),
    "hoc-ai-an-toan": ("lua-dao-nguoi-than",),
    "cu-tru-luu-tru": ("xac-nhan-cu-tru",),
    "dvc-thanh-toan": ("nop-phat-giao-thong",),
    "sinh-trac-hoc-ngan-hang": ("vneid-loi-nfc", "ngan-hang-doi-dien-thoai"),
    "vneid-tich-hop-giay-to": ("the-bhyt-dien-tu", "vneid-thong-tin-sai"),
}


def resolve(row: dict[str, object], library: Iterable[str], successors: bool = False) -> Label:
    """Resolve a row's label against the guides a library has.

    ``successors`` (for the written sets) also accepts the guides that took over part of
    the labelled one (``SUCCESSORS``).
    """
    have = set(library)
    slug = row.get("slug")
    alternatives = [str(s) for s in row.get("alt_slugs") or []]  # type: ignore[attr-defined]
    if successors and slug:
        alternatives += list(SUCCESSORS.get(str(slug), ()))
    candidates = ([str(slug)] if slug else []) + alternatives
    acceptable = frozenset(s for s in candidates if s in have)
    if not slug:
        return Label(None, acceptable)
    first = next((s for s in candidates if s in have), None)
    return Label(first, acceptable)


@dataclass
class Figures:
    """Accuracy figures of one question set."""

    questions: int = 0
    in_scope: int = 0
    out_scope: int = 0
    top1: int = 0
    top3: int = 0
    refused: int = 0  # out of scope and not confidently answered with a wrong guide
    no_guide: int = 0  # out of scope and answered "no guide" (Answer.NONE)
    hits: int = 0  # in scope, best guide right
    hits_confident: int = 0
    confident: int = 0
    confident_wrong: int = 0
    failures: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)

    def rate(self, name: str) -> float:
        """A figure as a share of its population (top1, top3, refused, …)."""
        base = {
            "top1": self.in_scope,
            "top3": self.in_scope,
            "refused": self.out_scope,
            "no_guide": self.out_scope,
            "hit_confident": self.hits,
            "precision": self.confident,
            "confident_wrong": self.questions,
        }[name]
        value = {
            "top1": self.top1,
            "top3": self.top3,
            "refused": self.refused,
            "no_guide": self.no_guide,
            "hit_confident": self.hits_confident,
            "precision": self.confident - self.confident_wrong,
            "confident_wrong": self.confident_wrong,
        }[name]
        return value / base if base else 1.0

    def summary(self) -> dict[str, float]:
        """The rates as a dict (for assertion messages and reports)."""
        names = ("top1", "top3", "refused", "no_guide", "hit_confident", "precision")
        return {name: round(self.rate(name), 3) for name in names} | {
            "confident_wrong": self.confident_wrong,
            "questions": self.questions,
        }


def measure(
    index: GuideIndex, rows: Sequence[dict[str, object]], successors: bool = False
) -> Figures:
    """Search every row's question and count how the answers compare with the labels."""
    figures = Figures()
    for row in rows:
        label = resolve(row, index.slugs, successors)
        result = index.search(str(row["q"]))
        record(figures, label, result, str(row["q"]))
    return figures


def record(figures: Figures, label: Label, result: SearchResult, question: str) -> None:
    """Add one answered question to the figures."""
    ranked = [slug for slug, _ in result.results]
    confident = result.kind is Answer.GUIDE
    right = bool(ranked) and ranked[0] in label.acceptable
    figures.questions += 1
    figures.confident += confident
    if confident and not right:
        figures.confident_wrong += 1
    if label.slug is None:
        figures.out_scope += 1
        figures.refused += not confident or right
        figures.no_guide += result.kind is Answer.NONE
        if confident and not right:
            figures.failures.append(("confident on out-of-scope", None, result.best, question))
        return
    figures.in_scope += 1
    figures.top3 += any(slug in label.acceptable for slug in ranked[:3])
    if right:
        figures.top1 += 1
        figures.hits += 1
        figures.hits_confident += confident
    else:
        kind = "confident wrong" if confident else "missed"
        figures.failures.append((kind, label.slug, result.best, question))
