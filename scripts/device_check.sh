#!/usr/bin/env bash
# The GPU-path check, one prepared run for a lent device machine (CONTRIBUTING.md, "A GPU"):
# from the repository root there, with that machine's python3 (which holds torch, transformers,
# pytest, pytest-xdist and hypothesis) and the wheels of the pure-Python dependencies it lacks,
# carried in .device-wheels/ (`make device-wheels` here). The zoo's weights cannot travel (the
# device takes 64 MiB and has no network): it checks the engine on the tiny random models and
# the claims, speed and dtype agreement on the shipped organisms. Writes into $OUT (default
# /tmp/device-check), 6 files: summary.txt (each step, ok or FAILED, and its seconds),
# env.json, gpu_capable.log, claims.log, bench.jsonl (one `icl-claims bench --json` per line:
# each organism in float32, bfloat16 and float16, then float32 with each reduced dtype's
# agreement), bench.log. Each step has its own time limit and all end within DEADLINE, so the
# whole fits one 10-minute device command with its summary whole. Exit status 1 if any step
# failed. DEVICE (default cuda) and PYTHON (default python3) choose another device or
# interpreter.
set -uo pipefail
cd "$(dirname "$0")/.."
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
OUT=${OUT:-/tmp/device-check}
DEADLINE=${DEADLINE:-540}  # seconds: every step ends by then, inside a 600-second device command
LIMIT_FACTOR=${LIMIT_FACTOR:-1}  # each step's time limit multiplied (a CPU run here: 4)
SITE=/tmp/icl-claims-device-site
mkdir -p "$OUT"
: > "$OUT/bench.jsonl"
: > "$OUT/bench.log"
export DEVICE PY OUT SITE PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export ICL_CLAIMS_CACHE=${ICL_CLAIMS_CACHE:-/tmp/icl-claims-device-cache}
failed=()

step() {  # step NAME SECONDS COMMAND...: run it under a time limit (SECONDS x LIMIT_FACTOR, and
    # within DEADLINE of the start), time it, note a failure
    local name=$1 limit=$(($2 * LIMIT_FACTOR)) left=$((DEADLINE - SECONDS)) start=$SECONDS
    shift 2
    if ((left < 10)); then
        echo "$name: FAILED, not run (the ${DEADLINE} s deadline is reached)"
        failed+=("$name")
        return
    fi
    if timeout "$((limit < left ? limit : left))" bash -c '"$@"' step "$@"; then
        echo "$name: ok ($((SECONDS - start)) s)"
    else
        echo "$name: FAILED, status $? ($((SECONDS - start)) s; 124: over its limit)"
        failed+=("$name")
    fi
}
logged() {  # logged FILE COMMAND...: its output into FILE
    local log=$1
    shift
    "$@" > "$log" 2>&1
}
wheels() {  # the carried wheels into $SITE (replacing an earlier install)
    rm -rf "$SITE"
    compgen -G ".device-wheels/*.whl" > /dev/null || { echo "no .device-wheels/*.whl"; return 1; }
    "$PY" -m pip install -q --no-index --no-deps --target "$SITE" .device-wheels/*.whl
}
environment() {
    "$PY" - > "$OUT/env.json" <<'PY'
import json, platform, torch, transformers
cuda = torch.cuda.is_available()
print(json.dumps({"python": platform.python_version(), "torch": torch.__version__,
                  "transformers": transformers.__version__, "cuda": torch.version.cuda,
                  "device": torch.cuda.get_device_name(0) if cuda else "cpu",
                  "bf16_supported": cuda and torch.cuda.is_bf16_supported()}))
PY
    cat "$OUT/env.json"
}
icl() {  # the icl-claims command of this tree
    "$PY" -c 'import sys; from icl_core.cli import main; sys.exit(main(sys.argv[1:]))' "$@"
}
bench_json() {  # bench_json ARGS...: `icl-claims bench ARGS --json` as one line of bench.jsonl
    icl bench "$@" --json > /tmp/icl-claims-bench.json 2>> "$OUT/bench.log" &&
        "$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' \
            < /tmp/icl-claims-bench.json >> "$OUT/bench.jsonl"
}
export -f logged wheels environment icl bench_json  # for `timeout`, which runs a new bash

main() {  # correctness first (the engine on cuda, the claims in bfloat16), then speed
    step wheels 60 wheels
    step environment 60 environment
    step gpu_capable 150 logged "$OUT/gpu_capable.log" "$PY" -m pytest tests -m gpu_capable \
        --device "$DEVICE" -n 4 -q -p no:cacheprovider -o addopts="-ra --strict-markers"
    step "claims bfloat16" 240 logged "$OUT/claims.log" "$PY" -m pytest claims/test_claims.py \
        --model organism-distributed --model organism-localized --device "$DEVICE" \
        --dtype bfloat16 -n 4 --dist loadgroup -q -p no:cacheprovider
    for model in organism-distributed organism-localized; do
        for dtype in float32 bfloat16 float16; do  # speed per dtype, one after another
            step "bench $model $dtype" 60 bench_json --model "$model" --device "$DEVICE" \
                --dtype "$dtype"
        done
        for dtype in bfloat16 float16; do  # outcomes against float32's, trial by trial
            step "agreement $model $dtype" 60 bench_json --model "$model" --device "$DEVICE" \
                --dtype float32 --agreement 10 --reduced-dtype "$dtype"
        done
    done
    echo "failed: ${failed[*]:-none}"
    [ ${#failed[@]} -eq 0 ]
}

main 2>&1 | tee "$OUT/summary.txt"
exit "${PIPESTATUS[0]}"
