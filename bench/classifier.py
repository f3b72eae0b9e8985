"""Incident classifier: held-out accuracy (overall, per kind of row, language, category), model size, speed.

Kinds of row: "incident" (the hand-written reports of incidents.jsonl) and "alert" (monitoring tools' alert
titles and summaries, alerts.jsonl).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

from chalicelib.domain import classifier

FIRST_CALL_TIMER = (
    "import time; started = time.perf_counter(); import chalicelib.domain.classifier as c; "
    "imported = time.perf_counter(); c.classify('DNS resolution failing'); "
    "print((imported - started) * 1000, (time.perf_counter() - imported) * 1000)"
)


def model_bytes(model: classifier.NaiveBayes) -> int:
    """The in-memory size of the trained tables: the dict, its keys and its arrays."""
    table = model.log_likelihood
    return sys.getsizeof(table) + sum(sys.getsizeof(key) + sys.getsizeof(row) for key, row in table.items())


def first_call_ms() -> tuple[float, float]:
    """Milliseconds to import the classifier, then to classify once (loading the shipped tables), in a
    fresh interpreter."""
    command = [sys.executable, "-c", FIRST_CALL_TIMER]
    timed = subprocess.run(command, capture_output=True, text=True, check=True)
    imported, first = timed.stdout.split()
    return float(imported), float(first)


def main() -> dict[str, float]:
    started = time.perf_counter()
    model = classifier.train()
    training_ms = (time.perf_counter() - started) * 1000
    train, test = classifier.split(classifier.load_rows())

    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    mistakes = []
    for row in test:
        predicted = model.classify(row["text"])
        for key in ("all", "kind:" + row["kind"], "lang:" + row["lang"], "category:" + row["category"]):
            totals[key] += 1
            hits[key] += predicted == row["category"]
        if predicted != row["category"]:
            mistakes.append((row["kind"], row["lang"], row["category"], predicted, row["text"]))

    texts = [row["text"] for row in test] * 20
    started = time.perf_counter()
    for text in texts:
        model.classify(text)
    per_call_ms = (time.perf_counter() - started) * 1000 / len(texts)

    figures = {
        "accuracy": hits["all"] / totals["all"],
        **{f"accuracy_{kind}": hits["kind:" + kind] / totals["kind:" + kind] for kind in classifier.KINDS},
        "ms_per_classification": per_call_ms,
    }
    print(f"held-out rows: {totals['all']} (train {len(train)})")
    print(f"held-out accuracy: {figures['accuracy']:.3f}")
    for key in sorted(totals, key=lambda key: (not key.startswith("kind:"), key)):
        if key != "all":
            print(f"  {key:<20} {hits[key] / totals[key]:.3f}  ({hits[key]}/{totals[key]})")
    dataset_bytes = sum(path.stat().st_size for path in classifier.DATASETS)
    names = ", ".join(path.name for path in classifier.DATASETS)
    print(f"model size: {dataset_bytes} bytes of dataset ({names}), {len(model.log_likelihood)} features")
    print(f"  trained tables in memory: {model_bytes(model) / 1e6:.2f} MB")
    imported, first = first_call_ms()
    print(f"training (at build time, `make classifier-tables`): {training_ms:.1f} ms")
    print(f"in a fresh interpreter: import {imported:.1f} ms, first classification {first:.1f} ms")
    print(f"mean per classification: {per_call_ms:.3f} ms")
    for kind, lang, expected, predicted, text in mistakes:
        one_line = text.replace("\n", " | ")
        print(f"  miss [{kind} {lang}] {expected} -> {predicted}: {one_line}")
    return figures


if __name__ == "__main__":
    main()
