# Shared by the device scripts eval/gpu_small.sh, eval/gpu_encoder.sh and eval/gpu_clean.sh (sourced; needs OUT and W).
log() { echo "[$(date +%T) +${SECONDS}s] $*"; }
left() { echo $((END - SECONDS)); }  # seconds until END (set by the script), when nothing new starts
limit() { local want=$1 l; l=$(left); echo $((want < l ? want : l)); }  # WANT seconds, or fewer if END is nearer
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

pretrain_in_memory() {  # ENC: pretrain CONFIG for PRETRAIN_MIN minutes (batch BATCH) on D/corpus into ENC,
    # the corpus tokenised once and masked on the GPU; the vocabulary of encoder-mini (build_vocab gives the same list)
    mkdir -p "$1" && cp models/encoder-mini/{vocab.txt,tokenizer.json,tokenizer_config.json} "$1/"
    log "pretrain $CONFIG for $PRETRAIN_MIN min (data in memory)"
    timeout "$(python -c "print(int($PRETRAIN_MIN * 60 + 100))")" python -m nlp pretrain --corpus "$D/corpus" --config "$CONFIG" \
        --output "$1" --data memory --workers 12 --masking char --seq-len 128 --batch-size "$BATCH" --lr 5e-4 \
        --warmup-steps 1000 --max-steps 1000000 --max-minutes "$PRETRAIN_MIN" --save-every 1000000 --log-every 200 \
        > "$W/pretrain.log" 2>&1
    log "pretrain rc=$?"
    cp "$1/pretrain_summary.json" "$W/" 2>/dev/null
}
