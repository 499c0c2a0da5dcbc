"""Does fine-tuning a classifier further on the hand labels it never saw make it better on unseen
documents? Document-grouped K-fold cross-validation over those labels (records ``--unseen-from`` on
of the hand-label file): for each fold, ``nlp train classify --base MODEL`` continues training on
the earlier records plus the other folds' unseen labels (weak labels of the training documents as
usual), and both MODEL and the continued model decode the fold's documents whole with MODEL's
``decoding.json``, ``doc_kind/`` and ``alone/``; only the fold's hand-labelled sentences are scored.
Dev is never read: the training runs see a data folder without ``gold/``.

    python eval/continue_cv.py [--model models/classifier-small] [--unseen-from 2797] [--folds 2]

Each fold trains for about 5 minutes per epoch on 2 CPU cores (about 4,800 sentences).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def score(model_dir: str | Path, docs: dict, labelled: dict[str, dict[int, str]]) -> dict[str, dict]:
    """Macro-F1 and accuracy of MODEL's decoded labels on the labelled sentences, by kind and in all."""
    from nlp.evaluate import classification_metrics
    from nlp.modeling import BertSentenceLabeller

    lab = BertSentenceLabeller(model_dir)
    lab.stack = None
    rows: dict[str, tuple[list, list]] = {}
    for d in sorted(docs):
        doc = copy.deepcopy(docs[d])
        lab.label(doc)
        kind = "work report" if d.startswith("gwr-") else "report"
        for key in (kind, "all"):
            g, p = rows.setdefault(key, ([], []))
            for i, gold in sorted(labelled[d].items()):
                g.append(gold)
                p.append(doc.sentences[i].label)
    out = {}
    for key, (g, p) in rows.items():
        m = classification_metrics(g, p)
        out[key] = {"sentences": len(g), "macro_f1": round(m["macro_f1"], 4), "accuracy": round(m["accuracy"], 4),
                    "per_label": {k: round(v["f1"], 4) for k, v in m["per_label"].items() if v["support"]}}
    return out


def main() -> None:
    from sklearn.model_selection import GroupKFold

    from nlp.training.hand import hand_label_sites, unseen_by_document

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/classifier-small")
    ap.add_argument("--hand", default="eval/hand/train_sentences.jsonl")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--unseen-from", type=int, default=2797)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", default="2e-5")
    ap.add_argument("--weak-per-label", default="300")
    ap.add_argument("--hand-weight", default="5")
    ap.add_argument("--work", help="keep the fold models here (default: a temporary folder)")
    ap.add_argument("--json", help="write the scores here")
    args = ap.parse_args()

    records = Path(args.hand).read_text(encoding="utf-8").splitlines()
    sites, _ = hand_label_sites(args.hand, args.data)
    docs, labelled = unseen_by_document(sites, args.unseen_from)
    doc_of = {s.record: s.doc.id for s in sites}
    doc_ids = sorted(docs)
    fold_of = {}
    for f, (_, te) in enumerate(GroupKFold(args.folds).split(doc_ids, groups=doc_ids)):
        for j in te:
            fold_of[doc_ids[j]] = f
    work = Path(args.work or tempfile.mkdtemp(prefix="continue-cv-"))
    data = work / "data"  # reports and corpus, no gold/: the training runs cannot read dev
    data.mkdir(parents=True, exist_ok=True)
    for name in ("reports.jsonl", "corpus"):
        if not (data / name).exists():
            (data / name).symlink_to(Path(args.data).resolve() / name)
    seen = records[: args.unseen_from - 1]
    results = []
    for f in range(args.folds):
        train = seen + [r for i, r in enumerate(records[args.unseen_from - 1:], args.unseen_from - 1)
                        if fold_of.get(doc_of.get(i)) != f]
        (work / f"train-{f}.jsonl").write_text("\n".join(train) + "\n", encoding="utf-8")
        out = work / f"fold-{f}"
        cmd = [sys.executable, "-m", "nlp", "train", "classify", "--base", args.model, "--output", str(out),
               "--reports", str(data / "reports.jsonl"), "--hand", str(work / f"train-{f}.jsonl"),
               "--epochs", str(args.epochs), "--lr", args.lr, "--batch-size", "32",
               "--weak-per-label", args.weak_per_label, "--hand-weight", args.hand_weight, "--valid-fraction", "0"]
        print(f"fold {f + 1}/{args.folds}: {len(train)} hand records; " + " ".join(cmd[1:]), flush=True)
        env = dict(os.environ, TQDM_MININTERVAL="60")  # a progress line a minute, not one a batch
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        for extra in ("decoding.json", "doc_kind", "alone"):
            src = Path(args.model) / extra
            if src.is_dir():
                shutil.copytree(src, out / extra, dirs_exist_ok=True)
            elif src.exists():
                shutil.copy(src, out / extra)
        fd = {d: docs[d] for d in doc_ids if fold_of[d] == f}
        fl = {d: labelled[d] for d in fd}
        results.append({"fold": f + 1, "documents": len(fd), "before": score(args.model, fd, fl),
                        "continued": score(out, fd, fl)})
        r = results[-1]
        print(f"  {len(fd)} documents, {r['before']['all']['sentences']} sentences: macro-F1 "
              f"{r['before']['all']['macro_f1']:.4f} → {r['continued']['all']['macro_f1']:.4f}, accuracy "
              f"{r['before']['all']['accuracy']:.4f} → {r['continued']['all']['accuracy']:.4f}", flush=True)
    print("\n| fold | kind | sentences | macro-F1 before | continued | accuracy before | continued |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        for kind in ("report", "work report", "all"):
            if kind in r["before"]:
                b, c = r["before"][kind], r["continued"][kind]
                print(f"| {r['fold']} | {kind} | {b['sentences']} | {b['macro_f1']:.4f} | {c['macro_f1']:.4f} "
                      f"| {b['accuracy']:.4f} | {c['accuracy']:.4f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
