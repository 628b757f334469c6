// @hpke/core measured beside our seal benchmark (scripts/bench seal). One "request" mirrors an OHTTP
// exchange: HPKE base-mode setup + seal of the request body (client), setup + open (gateway), then a
// response sealed with AES-128-GCM under a key derived from an HPKE export, and opened by the client.
// Prints one JSON line: {"request_1k_us":…, "request_64k_us":…}.
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, "tests/interop/js/package.json"));
const { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256, Aes128Gcm } = await import(
  pathToFileURL(require.resolve("@hpke/core")).href
);

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
const subtle = globalThis.crypto.subtle;
const te = new TextEncoder();

async function oneRequest(rkp, body) {
  const sender = await suite.createSenderContext({ recipientPublicKey: rkp.publicKey, info: te.encode("message/bhttp request") });
  const ct = await sender.seal(body);
  const recipient = await suite.createRecipientContext({ recipientKey: rkp.privateKey, enc: sender.enc, info: te.encode("message/bhttp request") });
  const pt = await recipient.open(ct);
  // Response: export a secret, derive an AEAD key and seal/open the response body.
  const secret = await recipient.export(te.encode("message/bhttp response"), 16);
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const key = await subtle.importKey("raw", secret, "AES-GCM", false, ["encrypt", "decrypt"]);
  const rct = await subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, pt);
  const csecret = await sender.export(te.encode("message/bhttp response"), 16);
  const ckey = await subtle.importKey("raw", csecret, "AES-GCM", false, ["decrypt"]);
  await subtle.decrypt({ name: "AES-GCM", iv: nonce }, ckey, rct);
}

async function measure(size) {
  const rkp = await suite.kem.generateKeyPair();
  const body = new Uint8Array(size).fill(0x61);
  for (let i = 0; i < 50; i++) await oneRequest(rkp, body);  // warm-up (JIT)
  const samples = [];
  for (let rep = 0; rep < 5; rep++) {
    const n = size > 4096 ? 100 : 300;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await oneRequest(rkp, body);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  samples.sort((a, b) => a - b);
  return samples[2];  // median
}

const r1 = await measure(1024);
const r64 = await measure(65536);
console.log(JSON.stringify({ request_1k_us: r1, request_64k_us: r64 }));
