"""Offline incident classifier: network, server, software, login or other (API.md "Classification").

A multinomial Naive Bayes over accent-folded word unigrams and the 3-4 character n-grams of each word,
trained on the shipped `incidents.jsonl` (hand-written incident reports) and `alerts.jsonl` (monitoring
tools' alert titles and summaries), their train split only. Training (100+ ms) happens at build time:
`make classifier-tables` writes its counts to `tables.tsv`, which the Lambda package carries and
`classify` loads on its first call (~30 ms); a test checks the file is what training gives now.
Character n-grams carry the model across languages and inflections ("certificat", "certificado",
"Zertifikat" share "tifi").
Identifiers are split into words ("HostOutOfMemory", "rds-cpu-high", "api1" -> "host out of memory",
"rds cpu high", "api 1"), so an alert rule's name reads like the sentence it stands for.
Stdlib only: it runs inside the Lambda package, with nothing downloaded.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path

CATEGORIES: tuple[str, ...] = ("network", "server", "software", "login", "other")
FALLBACK = "other"
DATASET = Path(__file__).with_name("incidents.jsonl")
ALERTS = Path(__file__).with_name("alerts.jsonl")
DATASETS = (DATASET, ALERTS)
TABLES = Path(__file__).with_name("tables.tsv")  # training's counts (build_tables), shipped
# A row's `kind`: "incident" (written by a person; the rows of incidents.jsonl, which carry no kind)
# or "alert" (written by a monitoring tool's rule).
KINDS: tuple[str, ...] = ("incident", "alert")

# Every TEST_EVERY-th row of each (category, lang, kind) cell is held out. Each file writes its
# translated cells in the same order (incidents in all five languages; alerts in es/pt/de/fr, the English
# alerts being texts of their own), so the same texts are held out in every language and none leaks
# through a translation in the train part.
TEST_EVERY = 5
NGRAM_SIZES = (3, 4)
# Relative weight of a whole word and of each of its n-grams: 4-fold cross-validation inside the train
# split, once alerts were added, scored 1:1 88.0%, 2:1 89.2%, 4:1 89.7%, 6:1 90.0%, 8:1 89.4%; 4:1 is
# where that plateau starts. The held-out rows took no part in the choice.
WORD_WEIGHT = 4.0
NGRAM_WEIGHT = 1.0
SMOOTHING = 0.2
# Fall back to "other" when under 60% of a text's features were seen in training (mostly unknown
# words), or when the best category beats the runner-up by less than MIN_MARGIN per unit of feature weight.
MIN_COVERAGE = 0.6
MIN_MARGIN = 0.01

Row = Mapping[str, str]
_WORD = re.compile(r"[a-z0-9]+")
# "HostOutOfMemory" -> "Host Out Of Memory", "OOMKilled" -> "OOM Killed"; "OAuth" stays whole.
_CAMEL_CASE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z]{2})(?=[A-Z][a-z])")
_LETTERS_OR_DIGITS = re.compile(r"[a-z]+|[0-9]+")
# A run of letters this long stands apart from digits ("api1", "http2", "sha256" -> "api 1", "http 2",
# "sha 256"); shorter ones stay glued, so "5xx", "4xx", "k8s", "ec2", "2fa", "p99", "500ms" keep their sense.
MIN_LETTERS_APART = 3


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case and strip accents: "Échec de résolution" -> "echec de resolution"."""
    return strip_accents(text.casefold())


def words(text: str) -> list[str]:
    """Accent-folded lower-case words, identifiers split: "KubePodCrashLooping on node_3" ->
    ["kube", "pod", "crash", "looping", "on", "node", "3"]; snake_case, kebab-case, dots and slashes
    already split, as the only word characters are letters and digits."""
    found: list[str] = []
    # Accents go before the case is read ("ÉchecDNS"), and again after folding ("İ" folds to "i" + a dot).
    for token in _WORD.findall(fold(_CAMEL_CASE.sub(" ", strip_accents(text)))):
        runs = _LETTERS_OR_DIGITS.findall(token)
        word = runs[0]
        for previous, run in pairwise(runs):
            if _stands_apart(previous) or _stands_apart(run):
                found.append(word)
                word = run
            else:
                word += run
        found.append(word)
    return found


def _stands_apart(run: str) -> bool:
    return run.isalpha() and len(run) >= MIN_LETTERS_APART


def features(text: str) -> dict[str, float]:
    """Weighted bag of `w:<word>` unigrams and `c:<n-gram>` character n-grams (words padded with `_`)."""
    bag: dict[str, float] = {}
    for word in words(text):
        bag["w:" + word] = bag.get("w:" + word, 0.0) + WORD_WEIGHT
        padded = f"_{word}_"
        for size in NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                gram = "c:" + padded[start : start + size]
                bag[gram] = bag.get(gram, 0.0) + NGRAM_WEIGHT
    return bag


def load_rows(*paths: Path) -> list[dict[str, str]]:
    """The rows of `paths` (by default DATASETS), each with its `kind` ("incident" when not written)."""
    rows: list[dict[str, str]] = []
    for path in paths or DATASETS:
        with path.open(encoding="utf-8") as lines:
            rows.extend({"kind": "incident", **json.loads(line)} for line in lines if line.strip())
    return rows


def split(rows: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """Deterministic held-out split: every TEST_EVERY-th row of each (category, lang, kind) cell is test."""
    seen: Counter[tuple[str, str, str]] = Counter()
    train: list[Row] = []
    test: list[Row] = []
    for row in rows:
        cell = (row["category"], row["lang"], row["kind"])
        seen[cell] += 1
        (test if seen[cell] % TEST_EVERY == 0 else train).append(row)
    return train, test


Counts = Mapping[str, Sequence[float]]  # feature -> its weight in each category (CATEGORIES' order)


def count(rows: Iterable[Row]) -> tuple[list[int], dict[str, tuple[float, ...]]]:
    """Training's costly part: the documents of each category and each feature's weight in each."""
    counts: dict[str, dict[str, float]] = {category: {} for category in CATEGORIES}
    documents: Counter[str] = Counter()
    for row in rows:
        category_counts = counts[row["category"]]
        for feature, weight in features(row["text"]).items():
            category_counts[feature] = category_counts.get(feature, 0.0) + weight
        documents[row["category"]] += 1
    vocabulary = sorted(set().union(*counts.values()))
    return (
        [documents[c] for c in CATEGORIES],
        {feature: tuple(counts[c].get(feature, 0.0) for c in CATEGORIES) for feature in vocabulary},
    )


class NaiveBayes:
    """Multinomial Naive Bayes; features never seen in training are ignored, not smoothed in."""

    def __init__(self, documents: Sequence[int], counts: Counts) -> None:
        total_documents = sum(documents) or 1
        self.log_prior = {
            c: math.log((n + 1) / (total_documents + len(CATEGORIES)))
            for c, n in zip(CATEGORIES, documents, strict=True)
        }
        denominators = [
            sum(weights[index] for weights in counts.values()) + SMOOTHING * len(counts)
            for index in range(len(CATEGORIES))
        ]
        # Counts are few distinct numbers (sums of whole weights): each logarithm is computed once.
        distinct = [{weights[index] for weights in counts.values()} for index in range(len(CATEGORIES))]
        logs = [
            {weight: math.log((weight + SMOOTHING) / denominators[index]) for weight in weights}
            for index, weights in enumerate(distinct)
        ]
        first, second, third, fourth, fifth = logs
        # One array of doubles per feature: half the memory of a tuple of float objects.
        self.log_likelihood: dict[str, array[float]] = {
            feature: array("d", (first[a], second[b], third[c], fourth[d], fifth[e]))
            for feature, (a, b, c, d, e) in counts.items()
        }

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
    return NaiveBayes(*count(split(load_rows())[0] if rows is None else rows))


def build_tables(rows: Iterable[Row] | None = None) -> str:
    """The text of `tables.tsv`: training's counts, by default of the train split of the shipped dataset.
    Tab-separated, columns in CATEGORIES' order: a row `documents` (training texts of each category),
    then one row per feature, sorted: the feature and its weight in each category."""
    documents, counts = count(split(load_rows())[0] if rows is None else rows)
    lines = ["documents\t" + "\t".join(str(n) for n in documents)]
    lines.extend("\t".join([feature, *map(_number, weights)]) for feature, weights in counts.items())
    return "\n".join(lines) + "\n"


def load_tables(text: str) -> NaiveBayes:
    """The model whose counts `build_tables` wrote: the very tables `train` builds from the same rows."""
    header, _, rows = text.partition("\n")
    documents = [int(n) for n in header.split("\t")[1:]]
    cells = rows.split()  # tabs and newlines; no feature holds a blank
    width = len(CATEGORIES) + 1
    columns = [map(float, cells[index::width]) for index in range(1, width)]
    return NaiveBayes(documents, dict(zip(cells[::width], zip(*columns, strict=True), strict=True)))


def _number(weight: float) -> str:
    return str(int(weight)) if weight.is_integer() else repr(weight)  # float() reads either back exactly


@functools.cache
def shipped_model() -> NaiveBayes:
    """The model of the shipped tables, loaded once per container on the first classification."""
    return load_tables(TABLES.read_text(encoding="utf-8"))


def classify(title: str, description: str = "") -> str:
    """The category of an incident, from its title and description; "other" when unsure."""
    return shipped_model().classify(f"{title}\n{description}")
