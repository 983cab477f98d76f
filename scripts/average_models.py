"""Average the weights of NLI models fine-tuned from one start ("model soup").

Two runs of one recipe (on other data, or with another seed) averaged weight by weight; calibrate
the result like any model (the model card's "What was tried" has one such soup, measured):

    python scripts/average_models.py runs/nli-cases-a runs/nli-cases-b -o runs/soup
    nli-check calibrate runs/soup --config models/nli-minilm-l6-cases.toml --data-dir ../shared/nli-data
"""

from __future__ import annotations

import argparse
import sys

from nli_check.errors import NLICheckError
from nli_check.training import average_models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model directories (two or more) fine-tuned from one start")
    parser.add_argument("-o", "--output", required=True, help="where the averaged model is written")
    parser.add_argument("--dtype", default="float16", choices=["float32", "float16", "bfloat16"],
                        help="dtype of the saved weights (default: float16)")
    args = parser.parse_args()
    try:
        summary = average_models(args.models, args.output, dtype=args.dtype)
    except NLICheckError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"averaged {len(summary['sources'])} models into {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
