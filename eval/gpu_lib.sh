# Shared by the device scripts eval/gpu_small.sh and eval/gpu_encoder.sh (sourced; needs OUT and W).
log() { echo "[$(date +%T) +${SECONDS}s] $*"; }
pack_logs() { tar czf "$OUT/logs.tar.gz" -C "$W" $(cd "$W" && ls *.log *.json 2>/dev/null) 2>/dev/null; }
half_and_split() {  # DIR NAME: half-precision copy of a model dir, tarred and split into 15 MB parts
    mkdir -p "$W/ship"
    python eval/half_model.py "$1" "$W/ship/$2"
    tar cf - -C "$W/ship" "$2" | split -b 15M - "$OUT/$2.tar.part-"
}

check_env() {
    log "GPU: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader)"
    python -c "import datasets, cn2an, torch, transformers, nlp.cli, nlp.training.classify, nlp.training.ner
print('torch', torch.__version__, 'transformers', transformers.__version__, 'datasets', datasets.__version__, 'cuda', torch.cuda.is_available())
datasets.Dataset.from_dict({'a': [1, 2]}).map(lambda b: b, batched=True)" || { log "environment check failed"; exit 3; }
}
