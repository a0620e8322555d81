"""The bundled model's PyTorch answers on a fixed slice of held-out test images.

    pnpm shortv dataset shapes --out /tmp/shapes-test16 --count 16 --seed 1 --split test
    /usr/bin/python3 tooling/train/heldout_slice.py --model packages/model-shapes/model \
        --data /tmp/shapes-test16 --out packages/eval/test/fixtures/bundled-heldout-slice.json

writes every single-answer question of those images with the greedy PyTorch answer (as golden.py's
evaluation produces it) and the slice's accuracy, so a runtime can be checked question by question on
the same slice it measures its accuracy on.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import ShapesSplit, normalize_answer  # noqa: E402
from export import load_model, write_json  # noqa: E402
from golden import evaluate  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model, tok = load_model(a.model)
    split = ShapesSplit(a.data)
    with torch.no_grad():
        metrics, predictions = evaluate(model, tok, split, blank=False)
    rows = [
        {**row, "correct": normalize_answer(row["prediction"]) == normalize_answer(row["answer"])}
        for row in predictions
        if row["family"] != "describe"
    ]
    write_json(a.out, {
        "format": "shortv.heldout-slice",
        "version": 1,
        "split": split.manifest["split"],
        "seed": split.manifest["seed"],
        "images": len(split),
        "questions": len(rows),
        "accuracy": sum(r["correct"] for r in rows) / len(rows),
        "computed_with": "tooling/train/heldout_slice.py (PyTorch, greedy, float32)",
        "predictions": rows,
    })
    print(f"{len(rows)} questions, accuracy {metrics['overall']:.4f}")


if __name__ == "__main__":
    main()
