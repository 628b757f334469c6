// The official OpenAI SDK for JavaScript (npm `openai`, pinned in package.json) as a real client of
// `cmln proxy`: one non-streamed and one streamed chat completion, and one request for a model no node
// serves (an OpenAI-shaped error). Prints one JSON object with what the SDK saw; the C++ test asserts on it.
//   node openai_proxy_peer.mjs BASE_URL MODEL
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused-by-cmln-proxy", maxRetries: 0, timeout: 120000 });
const messages = [{ role: "user", content: "Say hello." }];
const out = { sdk: "openai-node", version: OpenAI.VERSION ?? null };

const plain = await client.chat.completions
  .create({ model, messages, max_tokens: 6, temperature: 0 })
  .withResponse();
out.non_stream = {
  node: plain.response.headers.get("x-gonka-node"),
  object: plain.data.object,
  content: plain.data.choices[0].message.content,
  finish_reason: plain.data.choices[0].finish_reason,
  usage: plain.data.usage,
};

const streamed = await client.chat.completions
  .create({ model, messages, max_tokens: 6, temperature: 0, stream: true })
  .withResponse();
let content = "";
let chunks = 0;
let usage = null;
for await (const chunk of streamed.data) {
  chunks += 1;
  if (chunk.object !== "chat.completion.chunk") throw new Error(`unexpected object ${chunk.object}`);
  if (chunk.choices.length > 0 && chunk.choices[0].delta.content) content += chunk.choices[0].delta.content;
  if (chunk.usage) usage = chunk.usage;
}
out.stream = { node: streamed.response.headers.get("x-gonka-node"), content, chunks, usage };

try {
  await client.chat.completions.create({ model: "no-such-model", messages, max_tokens: 2 });
  out.unknown_model = { error: null };
} catch (e) {
  out.unknown_model = { status: e.status ?? null, code: e.code ?? null, type: e.type ?? null };
}
console.log(JSON.stringify(out));
