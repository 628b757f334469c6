#!/usr/bin/env python3
"""Runs one benchmark of scripts/bench and prints its summary; the last line is the JSON result."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")


def google_benchmark(binary, extra=(), field="cpu_time"):
    """Runs a Google Benchmark binary; returns {benchmark name: median `field` in microseconds}. cpu_time suits
    single-threaded benchmarks on a busy machine; manual-time (UseManualTime) and multi-threaded ones need
    real_time, which is what they report there."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([os.path.join(BUILD, binary), "--benchmark_out=" + out.name, "--benchmark_out_format=json",
                        "--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true", *extra],
                       check=True, stdout=sys.stderr)
        data = json.load(open(out.name))
    result = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        result[b["run_name"]] = b[field] * unit
    return result


def node_peer(script, args=()):
    out = subprocess.run(["node", os.path.join(ROOT, script), *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_seal():
    ours = google_benchmark("seal_bench")
    for k, v in sorted(ours.items()):
        print(f"{k:40s} {v:10.2f} us", file=sys.stderr)
    figures = {"ours_1k_us": ours["BM_OhttpRequest/1024"], "floor_1k_us": ours["BM_Floor/1024"],
               "ours_64k_us": ours["BM_OhttpRequest/65536"], "floor_64k_us": ours["BM_Floor/65536"],
               "ours_chunk_us": ours["BM_ChunkedSseEvent"], "floor_chunk_us": ours["BM_FloorChunk"]}
    try:
        peer = node_peer("bench/js/hpke_core_bench.mjs")
        figures["hpke_core_1k_us"] = peer["request_1k_us"]
        figures["hpke_core_64k_us"] = peer["request_64k_us"]
    except (subprocess.CalledProcessError, FileNotFoundError, KeyError, json.JSONDecodeError) as e:
        print(f"@hpke/core peer failed: {e}", file=sys.stderr)
    for k, v in figures.items():
        print(f"{k:24s} {v:10.2f}")
    print(f"ratio 1k vs floor  {figures['ours_1k_us'] / figures['floor_1k_us']:.3f}")
    print(f"ratio 64k vs floor {figures['ours_64k_us'] / figures['floor_64k_us']:.3f}")
    print(f"ratio chunk vs floor {figures['ours_chunk_us'] / figures['floor_chunk_us']:.3f}")
    result = {"name": "seal", "ours_us": round(figures["ours_1k_us"], 2), "peer": "floor",
              "peer_us": round(figures["floor_1k_us"], 2),
              "ratio": round(figures["ours_1k_us"] / figures["floor_1k_us"], 3)}
    result.update({k: round(v, 2) for k, v in figures.items()})
    return result


ENGINE_PROMPT = "Explain how a transformer language model generates text, step by step, for a curious student."


def bench_engine():
    """SmolLM2-135M prefill and decode per token, ours vs llama.cpp (llama-cpp-python), same prompt and threads."""
    threads = "2"
    model = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    os.environ.update({"CMLN_ENGINE_MODEL": model, "CMLN_ENGINE_PROMPT": ENGINE_PROMPT, "CMLN_ENGINE_THREADS": threads})
    # Manual time per token over 2 threads: the CPU column would be the whole process's CPU per iteration.
    ours = google_benchmark("engine_bench", field="real_time")
    figures = {"ours_prefill_us": ours["BM_Prefill/iterations:3/manual_time"],
               "ours_decode_us": ours["BM_Decode/iterations:2/manual_time"]}
    python = os.path.join(ROOT, ".venv-llama", "bin", "python")
    peer = None
    try:
        out = subprocess.run([python, os.path.join(ROOT, "scripts", "llama-reference"), "--bench", "--model", model,
                              "--threads", threads, "--prompt", ENGINE_PROMPT], check=True, capture_output=True, text=True)
        peer = json.loads(out.stdout.strip().splitlines()[-1])
        figures["peer_prefill_us"] = peer["prefill_us_per_token"]
        figures["peer_decode_us"] = peer["decode_us_per_token"]
    except (subprocess.CalledProcessError, FileNotFoundError, KeyError, json.JSONDecodeError) as e:
        print(f"llama.cpp peer failed (create .venv-llama, see tests/data/engine/SOURCES.md): {e}", file=sys.stderr)
    for k, v in figures.items():
        print(f"{k:20s} {v:10.1f} us/token  {1e6 / v:8.1f} tokens/s")
    result = {"name": "engine", "ours_us": round(figures["ours_decode_us"], 1), "peer": "llama.cpp",
              "peer_us": round(figures.get("peer_decode_us", 0.0), 1),
              "ratio": round(figures["ours_decode_us"] / figures["peer_decode_us"], 3) if peer else None,
              "threads": int(threads)}
    result.update({k: round(v, 1) for k, v in figures.items()})
    return result


def peer_json(argv):
    """Runs a peer timing script; returns its last stdout line as JSON, or None (reason on stderr)."""
    try:
        out = subprocess.run(argv, check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (subprocess.CalledProcessError, FileNotFoundError, IndexError, json.JSONDecodeError) as e:
        print(f"peer {argv[-1]} failed (run scripts/setup): {e}", file=sys.stderr)
        return None


def bench_attest_tdx():
    """Full TDX verification of MANIFEST case T1 per quote (collateral parsed once), ours vs dcap-qvl (Rust, PyPI)
    and @phala/dcap-qvl (JavaScript, npm), all with `now` pinned inside T1's window, CPU time per call."""
    ours = google_benchmark("attest_tdx_bench")["BM_VerifyTdxT1"]
    rust = peer_json([os.path.join(ROOT, ".venv-peers", "bin", "python"), os.path.join(ROOT, "bench", "py", "dcap_qvl_bench.py")])
    js = peer_json(["node", os.path.join(ROOT, "bench", "js", "dcap-qvl", "bench.mjs")])
    print(f"ours (cmln)                 {ours:10.1f} us", file=sys.stderr)
    if rust:
        print(f"dcap-qvl {rust['version']:8s} (Rust)    {rust['verify_us']:10.1f} us", file=sys.stderr)
    if js:
        print(f"@phala/dcap-qvl {js['version']:6s} (JS) {js['verify_us']:10.1f} us", file=sys.stderr)
    result = {"name": "attest-tdx", "ours_us": round(ours, 1), "peer": "dcap-qvl-rust",
              "peer_us": rust["verify_us"] if rust else None,
              "ratio": round(ours / rust["verify_us"], 3) if rust else None,
              "peer_version": rust["version"] if rust else None,
              "npm_peer": "@phala/dcap-qvl", "npm_peer_us": js["verify_us"] if js else None,
              "npm_ratio": round(ours / js["verify_us"], 3) if js else None,
              "npm_peer_version": js["version"] if js else None}
    return result


def bench_attest_snp():
    """Full SEV-SNP verification of MANIFEST case S1 per report (VCEK and chain prepared once) against the 1 ms target."""
    ours = google_benchmark("attest_snp_bench")
    verify_us, parse_us = ours["BM_VerifySnpS1"], ours["BM_ParseSnpReport"]
    print(f"verify S1 {verify_us:10.1f} us   parse {parse_us:8.2f} us", file=sys.stderr)
    return {"name": "attest-snp", "ours_us": round(verify_us, 1), "peer": "target-1ms", "peer_us": 1000.0,
            "ratio": round(verify_us / 1000.0, 3), "parse_us": round(parse_us, 2)}


def bench_attest_gpu():
    """BM_VerifyGpuN1 beside NVIDIA's Python verifier doing the same offline steps on N1 (bench/py/nv_local_gpu_verifier_bench.py).
    The peer runs from .venv-nvverifier: python3 -m venv .venv-nvverifier && .venv-nvverifier/bin/pip install nv-local-gpu-verifier==2.7.3"""
    ours = google_benchmark("attest_gpu_bench")
    for k, v in sorted(ours.items()):
        print(f"{k:40s} {v:10.2f} us", file=sys.stderr)
    verify_us = ours["BM_VerifyGpuN1"]
    peer = peer_json([os.path.join(ROOT, ".venv-nvverifier", "bin", "python"),
                      os.path.join(ROOT, "bench", "py", "nv_local_gpu_verifier_bench.py")])
    return {"name": "attest-gpu", "ours_us": round(verify_us, 1),
            "peer": "nv-local-gpu-verifier" if peer else "none",
            "peer_us": peer["verify_us"] if peer else None,
            "ratio": round(verify_us / peer["verify_us"], 4) if peer else None,
            "peer_version": peer["version"] if peer else None}


def bench_chain_settle():
    """Settled usage entries per second (FinalizeBlock + Commit of full-batch MsgSettleConfidentialUsage txs) and
    on-chain bytes per 1,000 inferences, ours beside the classic two-transaction flow (bench/chain_settle_bench.cc
    states the classic message sizes assumed)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([os.path.join(BUILD, "chain_settle_bench"), "--benchmark_out=" + out.name,
                        "--benchmark_out_format=json", "--benchmark_repetitions=3"], check=True, stdout=sys.stderr)
        data = json.load(open(out.name))
    runs = [b for b in data["benchmarks"] if b["run_name"].startswith("BM_SettleBlock") and b.get("run_type") == "iteration"]
    entries_per_s = sorted(b["entries_per_s"] for b in runs)[len(runs) // 2]  # median of the repetitions
    size = next(b for b in data["benchmarks"] if b["run_name"].startswith("BM_OnChainBytes"))
    ours, agg, classic = size["ours_bytes_per_1k"], size["ours_bytes_per_1k_agg10"], size["classic_bytes_per_1k"]
    print(f"settled entries/s {entries_per_s:12.0f}  ({1e6 / entries_per_s:.2f} us per entry, target 100000/s)", file=sys.stderr)
    print(f"bytes per 1k inferences: ours {ours:.0f} (10 per escrow: {agg:.0f}), classic {classic:.0f}, "
          f"classic/ours {classic / ours:.1f}x (10 per escrow: {classic / agg:.1f}x)", file=sys.stderr)
    return {"name": "chain-settle", "ours_us": round(1e6 / entries_per_s, 3), "peer": "classic-two-tx", "peer_us": None,
            "ratio": round(ours / classic, 4), "entries_per_s": round(entries_per_s),
            "ours_bytes_per_1k": round(ours), "classic_bytes_per_1k": round(classic),
            "ours_bytes_per_1k_agg10": round(agg), "classic_over_ours": round(classic / ours, 1)}


def bench_node_overhead():
    """The node's encrypted path (OHTTP + authorization + quota + receipt) against the same engine called in
    plaintext (its OpenAI server), SmolLM2-135M, concurrency 1 and 32 (bench/node_overhead_bench.cc)."""
    env = dict(os.environ)
    env.setdefault("CMLN_NODE_BENCH_MODEL", os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    out = subprocess.run([os.path.join(BUILD, "node_overhead_bench")], check=True, capture_output=True, text=True,
                         env=env)
    sys.stderr.write(out.stderr)
    lines = out.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line, file=sys.stderr)
    return json.loads(lines[-1])


def bench_chain_cometbft():
    """Committed MsgSend per-tx time under load and one-at-a-time latency on 4 CometBFT validators against the
    embedded block producer, both through the REST API (bench/chain_cometbft_bench.cc)."""
    out = subprocess.run([os.path.join(BUILD, "chain_cometbft_bench")], check=True, capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


BENCHES = {"seal": bench_seal, "engine": bench_engine, "attest-tdx": bench_attest_tdx, "attest-snp": bench_attest_snp,
           "attest-gpu": bench_attest_gpu, "chain-settle": bench_chain_settle,
           "node-overhead": bench_node_overhead, "chain-cometbft": bench_chain_cometbft}

if __name__ == "__main__":
    print(json.dumps(BENCHES[sys.argv[1]]()))
