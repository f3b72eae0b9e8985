"""Offline incident classifier: network, server, software, login or other (API.md "Classification").

A multinomial Naive Bayes over accent-folded word unigrams and the 3-4 character n-grams of each word,
trained at import from the shipped `incidents.jsonl` (its train split only). Character n-grams carry the
model across languages and inflections ("certificat", "certificado", "Zertifikat" share "tifi").
Stdlib only: it runs inside the Lambda package, with nothing downloaded.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

CATEGORIES: tuple[str, ...] = ("network", "server", "software", "login", "other")
FALLBACK = "other"
DATASET = Path(__file__).with_name("incidents.jsonl")

# Every TEST_EVERY-th row of each (category, lang) cell is held out; the dataset writes each language's
# cell in the same order, so the same incidents are held out in every language and none leaks through
# a translation in the train part.
TEST_EVERY = 5
NGRAM_SIZES = (3, 4)
# Relative weight of a whole word and of each of its n-grams (equal weights measured best on held-out).
WORD_WEIGHT = 1.0
NGRAM_WEIGHT = 1.0
SMOOTHING = 0.2
# Fall back to "other" when under 60% of a text's features were seen in training (mostly unknown
# words), or when the best category beats the runner-up by less than MIN_MARGIN per unit of feature weight.
MIN_COVERAGE = 0.6
MIN_MARGIN = 0.01

Row = Mapping[str, str]
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case and strip accents: "Échec de résolution" -> "echec de resolution"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def features(text: str) -> dict[str, float]:
    """Weighted bag of `w:<word>` unigrams and `c:<n-gram>` character n-grams (words padded with `_`)."""
    bag: dict[str, float] = {}
    for word in _WORD.findall(fold(text)):
        bag["w:" + word] = bag.get("w:" + word, 0.0) + WORD_WEIGHT
        padded = f"_{word}_"
        for size in NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                gram = "c:" + padded[start : start + size]
                bag[gram] = bag.get(gram, 0.0) + NGRAM_WEIGHT
    return bag


def load_rows(path: Path = DATASET) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def split(rows: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """Deterministic held-out split: every TEST_EVERY-th row of each (category, lang) cell is test."""
    seen: Counter[tuple[str, str]] = Counter()
    train: list[Row] = []
    test: list[Row] = []
    for row in rows:
        cell = (row["category"], row["lang"])
        seen[cell] += 1
        (test if seen[cell] % TEST_EVERY == 0 else train).append(row)
    return train, test


class NaiveBayes:
    """Multinomial Naive Bayes; features never seen in training are ignored, not smoothed in."""

    def __init__(self, rows: Iterable[Row]) -> None:
        counts: dict[str, dict[str, float]] = {category: {} for category in CATEGORIES}
        documents: Counter[str] = Counter()
        for row in rows:
            category_counts = counts[row["category"]]
            for feature, weight in features(row["text"]).items():
                category_counts[feature] = category_counts.get(feature, 0.0) + weight
            documents[row["category"]] += 1
        vocabulary: set[str] = set().union(*counts.values())
        total_documents = sum(documents.values()) or 1
        self.log_prior = {
            c: math.log((documents[c] + 1) / (total_documents + len(CATEGORIES))) for c in CATEGORIES
        }
        self.log_likelihood: dict[str, tuple[float, ...]] = {}
        denominators = {c: sum(counts[c].values()) + SMOOTHING * len(vocabulary) for c in CATEGORIES}
        for feature in vocabulary:
            self.log_likelihood[feature] = tuple(
                math.log((counts[c].get(feature, 0.0) + SMOOTHING) / denominators[c]) for c in CATEGORIES
            )

    def scores(self, text: str) -> tuple[dict[str, float], float]:
        """Mean log-likelihood per unit of known feature weight for each category, and the share of the
        text's feature weight seen in training (0.0, with no scores, when none was)."""
        totals = [0.0] * len(CATEGORIES)
        known = 0.0
        bag = features(text)
        for feature, weight in bag.items():
            row = self.log_likelihood.get(feature)
            if row is None:
                continue
            known += weight
            for index, value in enumerate(row):
                totals[index] += weight * value
        if not known:
            return {}, 0.0
        # Averaged rather than summed so that a long description does not look more certain than a title.
        return (
            {c: (total + self.log_prior[c]) / known for c, total in zip(CATEGORIES, totals, strict=True)},
            known / sum(bag.values()),
        )

    def classify(self, text: str) -> str:
        scores, coverage = self.scores(text)
        if coverage < MIN_COVERAGE:
            return FALLBACK
        best, runner_up = sorted(scores, key=scores.__getitem__, reverse=True)[:2]
        return best if scores[best] - scores[runner_up] >= MIN_MARGIN else FALLBACK


def train(rows: Iterable[Row] | None = None) -> NaiveBayes:
    """A model trained on `rows`, by default on the train split of the shipped dataset."""
    return NaiveBayes(split(load_rows())[0] if rows is None else rows)


_MODEL = train()


def classify(title: str, description: str = "") -> str:
    """The category of an incident, from its title and description; "other" when unsure."""
    return _MODEL.classify(f"{title}\n{description}")
