"""The official OpenAI SDK for Python (PyPI `openai`, pinned in scripts/setup, installed in .venv-peers) as a
real client of `cmln proxy`: one non-streamed and one streamed chat completion, and one request for a model no
node serves (an OpenAI-shaped error). Prints one JSON object with what the SDK saw; the C++ test asserts on it.
    .venv-peers/bin/python openai_proxy_peer.py BASE_URL MODEL
"""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key="unused-by-cmln-proxy", max_retries=0, timeout=120)
messages = [{"role": "user", "content": "Say hello."}]
out = {"sdk": "openai-python", "version": openai.__version__}

raw = client.chat.completions.with_raw_response.create(model=model, messages=messages, max_tokens=6, temperature=0)
plain = raw.parse()
out["non_stream"] = {
    "node": raw.headers.get("x-gonka-node"),
    "object": plain.object,
    "content": plain.choices[0].message.content,
    "finish_reason": plain.choices[0].finish_reason,
    "usage": plain.usage.model_dump() if plain.usage else None,
}

raw_stream = client.chat.completions.with_raw_response.create(
    model=model, messages=messages, max_tokens=6, temperature=0, stream=True)
content, chunks, usage = "", 0, None
for chunk in raw_stream.parse():
    chunks += 1
    if chunk.object != "chat.completion.chunk":
        raise SystemExit(f"unexpected object {chunk.object}")
    if chunk.choices and chunk.choices[0].delta.content:
        content += chunk.choices[0].delta.content
    if chunk.usage:
        usage = chunk.usage.model_dump()
out["stream"] = {"node": raw_stream.headers.get("x-gonka-node"), "content": content, "chunks": chunks, "usage": usage}

try:
    client.chat.completions.create(model="no-such-model", messages=messages, max_tokens=2)
    out["unknown_model"] = {"error": None}
except openai.APIStatusError as e:
    out["unknown_model"] = {"status": e.status_code, "code": getattr(e, "code", None), "type": getattr(e, "type", None)}
print(json.dumps(out))
