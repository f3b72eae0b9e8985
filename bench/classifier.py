"""Incident classifier: held-out accuracy (overall, per language, per category), model size and speed."""

from __future__ import annotations

import time
from collections import Counter

from chalicelib.domain import classifier


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
        for key in ("all", "lang:" + row["lang"], "category:" + row["category"]):
            totals[key] += 1
            hits[key] += predicted == row["category"]
        if predicted != row["category"]:
            mistakes.append((row["lang"], row["category"], predicted, row["text"]))

    texts = [row["text"] for row in test] * 20
    started = time.perf_counter()
    for text in texts:
        model.classify(text)
    per_call_ms = (time.perf_counter() - started) * 1000 / len(texts)

    size = classifier.DATASET.stat().st_size
    figures = {"accuracy": hits["all"] / totals["all"], "ms_per_classification": per_call_ms}
    print(f"held-out rows: {totals['all']} (train {len(train)})")
    print(f"held-out accuracy: {figures['accuracy']:.3f}")
    for key in sorted(totals):
        if key != "all":
            print(f"  {key:<20} {hits[key] / totals[key]:.3f}  ({hits[key]}/{totals[key]})")
    print(f"model size: {size} bytes of dataset (incidents.jsonl), {len(model.log_likelihood)} features")
    print(f"training at import: {training_ms:.1f} ms")
    print(f"mean per classification: {per_call_ms:.3f} ms")
    for lang, expected, predicted, text in mistakes:
        print(f"  miss [{lang}] {expected} -> {predicted}: {text}")
    return figures


if __name__ == "__main__":
    main()
