#!/usr/bin/env bash
# One 10-minute GPU call: pretrain the `small` encoder (6 layers / 384 hidden) with the
# corpus tokenised once and blocks drawn and masked on the GPU (`nlp pretrain --data memory`),
# then on it: the entity tagger (`nlp train ner`, two learning rates; the better on dev returns)
# and the sentence classifier (the recipe of the shipped classifier-small). Every step has a time
# limit so the whole script ends inside the call; each result is packed into OUT as soon as it exists.
#
#   bash eval/gpu_encoder.sh DATA_DIR OUT_DIR          (DATA_DIR: ../shared/data or a copy of it)
#
# Results (half-precision safetensors, tarred and split into 15 MB parts: `cat X.tar.part-* | tar x`):
# OUT/encoder-small.tar.part-* (the pretrained encoder, MLM head included), OUT/ner-small.tar.part-*,
# OUT/logs.tar.gz (logs and summaries, the classifier's scores among them). The transfer allows 8 files
# and 64 MiB, so the classifier itself comes back only with RETURN_CLASSIFIER=1 (then instead of the
# encoder). The run recorded in docs/experiments.md brought the classifier and the tagger back.
set -uo pipefail
D=${1:-../shared/data}
OUT=${2:-runs/gpu-encoder}
W=${WORK:-/tmp/gpu-encoder}
PRETRAIN_MIN=${PRETRAIN_MIN:-3.7}
CONFIG=${CONFIG:-small}      # tiny: a quick dry run of this script on a CPU
BATCH=${BATCH:-512}
RETURN_CLASSIFIER=${RETURN_CLASSIFIER:-0}
NER_EPOCHS=${NER_EPOCHS:-8}
CLF_EPOCHS=${CLF_EPOCHS:-8}
END=${END:-540}              # seconds: nothing new starts after this
mkdir -p "$OUT" "$W"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false TQDM_MININTERVAL=30 HF_HUB_OFFLINE=1
. "$(dirname "$0")/gpu_lib.sh"

check_env

# 1. pretraining: the corpus vocabulary of encoder-mini (build_vocab gives the same list)
ENC=$W/encoder-small
pretrain_in_memory "$ENC"
python -c "import json,sys; d=json.load(open(sys.argv[1])); print({k: d.get(k) for k in ('steps','tokens_seen','final_loss_ema','corpus_tokens','tokenise_minutes','minutes_this_run')}); print(d['history'][-1] if d['history'] else '')" "$ENC/pretrain_summary.json"
[ -f "$ENC/model.safetensors" ] || { pack_logs; exit 4; }
[ "$RETURN_CLASSIFIER" = 1 ] || half_and_split "$ENC" encoder-small
pack_logs

# 2. entity tagger, at two learning rates, with early stopping on dev
ner() {  # NAME LR
    local lim; lim=$(limit 110)
    [ "$lim" -gt 40 ] || { log "no time for ner $1"; return; }
    log "ner $1 (lr $2, ${lim}s)"
    timeout "$lim" python -m nlp train ner --base "$ENC" --output "$W/$1" --reports "$D/reports.jsonl" \
        --dev "$D/gold/dev.jsonl" --hand eval/hand/train_entities.jsonl --epochs "$NER_EPOCHS" --batch-size 32 \
        --lr "$2" --position-init keep > "$W/$1.log" 2>&1
    log "ner $1 rc=$?"; grep '^{"epoch"' "$W/$1.log" | cut -c1-220; tail -n 2 "$W/$1.log" | cut -c1-400
    cp "$W/$1/training_summary.json" "$W/$1.summary.json" 2>/dev/null
}
ner ner-a 1e-4
pack_logs

# 3. classifier: the recipe of the shipped classifier-small
lim=$(limit 150)
if [ "$lim" -gt 50 ]; then
    log "classify (${lim}s)"
    timeout "$lim" python -m nlp train classify --base "$ENC" --output "$W/classifier-small" --reports "$D/reports.jsonl" \
        --dev "$D/gold/dev.jsonl" --hand eval/hand/train_sentences.jsonl --epochs "$CLF_EPOCHS" --lr 5e-5 --batch-size 32 \
        --weak-per-label 1500 --hand-weight 5 > "$W/classify.log" 2>&1
    log "classify rc=$?"; grep "^epoch [0-9]*:" "$W/classify.log" | cut -c1-300
    cp "$W/classifier-small/training_summary.json" "$W/classify.summary.json" 2>/dev/null
    [ "$RETURN_CLASSIFIER" = 1 ] && [ -f "$W/classifier-small/model.safetensors" ] && half_and_split "$W/classifier-small" classifier-small
fi
pack_logs

ner ner-b 5e-5
best=$(python - "$W" <<'PY'
import json, sys
from pathlib import Path
best, key = "", None
for n in ("ner-a", "ner-b"):
    p = Path(sys.argv[1]) / f"{n}.summary.json"
    if p.exists():
        dev = json.loads(p.read_text()).get("dev", {})
        k = (dev.get("model+rules", {}).get("strict_micro_f1", -1), dev.get("model", {}).get("strict_micro_f1", -1))
        if key is None or k > key:
            best, key = n, k
print(best)
PY
)
log "best tagger: ${best:-none}"
[ -n "$best" ] && { rm -rf "$W/ner-small"; cp -r "$W/$best" "$W/ner-small"; half_and_split "$W/ner-small" ner-small; }
pack_logs
ls -la "$OUT"
log done
