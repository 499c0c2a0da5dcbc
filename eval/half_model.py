"""Half-precision copy of a model directory (weights saved as fp16 safetensors; everything
else copied as it is). The project's models load as fp32, so fp16 only halves the file.

    python eval/half_model.py SRC DST
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def main() -> None:
    import torch
    from transformers import (AutoConfig, AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification,
                              AutoModelForTokenClassification)

    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    arch = AutoConfig.from_pretrained(src).architectures[0]
    cls = (AutoModelForMaskedLM if "MaskedLM" in arch else AutoModelForSequenceClassification if "Sequence" in arch
           else AutoModelForTokenClassification if "TokenClassification" in arch else AutoModel)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("checkpoint", ".cache", "*.safetensors"))
    if (src / "doc_kind").is_dir():  # the document-kind model is not a transformer: copied as it is
        shutil.rmtree(dst / "doc_kind")
        shutil.copytree(src / "doc_kind", dst / "doc_kind")
    cls.from_pretrained(src, dtype=torch.float32).half().save_pretrained(dst, safe_serialization=True)
    print(dst, sum(p.stat().st_size for p in dst.iterdir()) // 1024, "KiB")


if __name__ == "__main__":
    main()
