# Shared by the device scripts eval/gpu_small.sh and eval/gpu_encoder.sh (sourced; needs OUT and W).
log() { echo "[$(date +%T) +${SECONDS}s] $*"; }
pack_logs() { tar czf "$OUT/logs.tar.gz" -C "$W" $(cd "$W" && ls *.log *.json 2>/dev/null) 2>/dev/null; }
half_and_split() {  # DIR NAME: half-precision copy of a model dir, tarred and split into 15 MB parts
    mkdir -p "$W/ship"
    python - "$1" "$W/ship/$2" <<'EOF'
import shutil, sys, torch
from pathlib import Path
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
EOF
    tar cf - -C "$W/ship" "$2" | split -b 15M - "$OUT/$2.tar.part-"
}

check_env() {
    log "GPU: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader)"
    python -c "import datasets, cn2an, torch, transformers, nlp.cli, nlp.training.classify, nlp.training.ner
print('torch', torch.__version__, 'transformers', transformers.__version__, 'datasets', datasets.__version__, 'cuda', torch.cuda.is_available())
datasets.Dataset.from_dict({'a': [1, 2]}).map(lambda b: b, batched=True)" || { log "environment check failed"; exit 3; }
}
