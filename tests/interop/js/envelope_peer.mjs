// Gonka envelope v1 peer for tests/interop/envelope_interop_test.cc: an independent implementation of
// ENVELOPE_V1.md on @hpke/core (+ @hpke/chacha20poly1305) for HPKE and node:crypto for SHA-256 and the
// ChaCha20-Poly1305 response. It shares no code with the C++ side.
//
// Reads one JSON command on stdin, writes one JSON result on stdout. Byte strings are lowercase hex; request and
// response documents are passed as JSON text.
//   {"op":"client_seal","pk":..,"session_id":"..","nonce":n,"body":..}
//     -> {"request":"<json>","state":{"session_id":..,"nonce":n,"response_key":..}}
//   {"op":"client_open","state":{..},"response":"<json>"} -> {"body":..}
//   {"op":"node_respond","sk":..,"request":"<json>","response_body":..}
//     -> {"body":..,"response":"<json>"}      (opens the request, then seals response_body to it)
//   {"op":"key_id","pk":..} -> {"key_id":..}
// Any failure -> {"error":".."} and exit code 1.
//
// The client "state" carries the response key between the two client calls, because each call is a new process.
import { createHash, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";

const INFO = "gonka/devshard/hpke-info/v1";
const REQ_LABEL = "gonka/devshard/req/v1";
const RESP_LABEL = "gonka/devshard/resp/v1";
const RESPONSE_KEY_CONTEXT = "gonka/devshard/response-key/v1";
const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
const AEAD_ID = 0x0003;

const te = new TextEncoder();
const fromHex = (h) => Buffer.from(h ?? "", "hex");
const toHex = (b) => Buffer.from(b).toString("hex");
const sha256 = (b) => createHash("sha256").update(b).digest();

function suite() {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
}

function keyId(pk) {
  return toHex(sha256(pk).subarray(0, 8));
}

function u64be(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

const ZERO = Buffer.from([0]);
function requestAad(sessionId, nonce, promptHash) {
  return Buffer.concat([te.encode(REQ_LABEL), ZERO, te.encode(sessionId), ZERO, u64be(nonce), ZERO, promptHash]);
}
function responseAad(sessionId, nonce) {
  return Buffer.concat([te.encode(RESP_LABEL), ZERO, te.encode(sessionId), ZERO, u64be(nonce)]);
}

// Strict base64: must round-trip (Buffer.from alone accepts garbage).
function b64decode(s, field) {
  if (typeof s !== "string") throw new Error(`${field} is not a string`);
  const b = Buffer.from(s, "base64");
  if (b.toString("base64") !== s) throw new Error(`${field} is not canonical base64`);
  return b;
}

function requireInt(obj, field) {
  if (!Number.isSafeInteger(obj[field]) || obj[field] < 0) throw new Error(`${field} is not an unsigned integer`);
  return obj[field];
}

// X25519 public key of a raw 32-byte private key, via a PKCS#8 wrapper (RFC 8410).
function x25519PublicFromPrivate(sk) {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), sk]);
  const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({
    format: "der",
    type: "spki",
  });
  return spki.subarray(spki.length - 32);
}

async function clientSeal(cmd) {
  const s = suite();
  const pk = fromHex(cmd.pk);
  const body = fromHex(cmd.body);
  const promptHash = sha256(body);
  const sender = await s.createSenderContext({
    recipientPublicKey: await s.kem.deserializePublicKey(pk),
    info: te.encode(INFO),
  });
  const ct = await sender.seal(body, requestAad(cmd.session_id, cmd.nonce, promptHash));
  const responseKey = await sender.export(te.encode(RESPONSE_KEY_CONTEXT), 32);
  const request = {
    version: 1,
    session_id: cmd.session_id,
    nonce: cmd.nonce,
    recipient_key_id: keyId(pk),
    kem_id: KEM_ID,
    kdf_id: KDF_ID,
    aead_id: AEAD_ID,
    enc: Buffer.from(sender.enc).toString("base64"),
    prompt_hash: promptHash.toString("base64"),
    ciphertext: Buffer.from(ct).toString("base64"),
  };
  return {
    request: JSON.stringify(request),
    state: { session_id: cmd.session_id, nonce: cmd.nonce, response_key: toHex(new Uint8Array(responseKey)) },
  };
}

async function clientOpen(cmd) {
  const r = JSON.parse(cmd.response);
  if (r.version !== 1) throw new Error("response version is not 1");
  if (r.aead_id !== AEAD_ID) throw new Error("response aead_id is not 3");
  if (r.session_id !== cmd.state.session_id) throw new Error("response session_id does not match");
  if (requireInt(r, "nonce") !== cmd.state.nonce) throw new Error("response nonce does not match");
  const nonce = b64decode(r.response_nonce, "response_nonce");
  if (nonce.length !== 12) throw new Error("response_nonce is not 12 bytes");
  const sealed = b64decode(r.ciphertext, "ciphertext");
  if (sealed.length < 16) throw new Error("ciphertext shorter than the tag");
  const body = sealed.subarray(0, sealed.length - 16);
  const tag = sealed.subarray(sealed.length - 16);
  const d = createDecipheriv("chacha20-poly1305", fromHex(cmd.state.response_key), nonce, { authTagLength: 16 });
  d.setAAD(responseAad(r.session_id, r.nonce), { plaintextLength: body.length });
  d.setAuthTag(tag);
  const pt = Buffer.concat([d.update(body), d.final()]);
  return { body: toHex(pt) };
}

async function nodeRespond(cmd) {
  const s = suite();
  const sk = fromHex(cmd.sk);
  const pk = x25519PublicFromPrivate(sk);
  const r = JSON.parse(cmd.request);
  if (r.version !== 1) throw new Error("version is not 1");
  if (r.kem_id !== KEM_ID || r.kdf_id !== KDF_ID || r.aead_id !== AEAD_ID) throw new Error("unsupported suite");
  if (typeof r.session_id !== "string" || r.session_id.length === 0) throw new Error("bad session_id");
  requireInt(r, "nonce");
  if (r.recipient_key_id !== keyId(pk)) throw new Error("unknown recipient_key_id");
  const enc = b64decode(r.enc, "enc");
  const promptHash = b64decode(r.prompt_hash, "prompt_hash");
  if (enc.length !== 32 || promptHash.length !== 32) throw new Error("wrong enc or prompt_hash size");
  const recipient = await s.createRecipientContext({
    recipientKey: await s.kem.deserializePrivateKey(sk),
    enc,
    info: te.encode(INFO),
  });
  const body = Buffer.from(
    await recipient.open(b64decode(r.ciphertext, "ciphertext"), requestAad(r.session_id, r.nonce, promptHash)),
  );
  if (!sha256(body).equals(promptHash)) throw new Error("prompt_hash does not match the body");
  const responseKey = Buffer.from(await recipient.export(te.encode(RESPONSE_KEY_CONTEXT), 32));

  const responseBody = fromHex(cmd.response_body);
  const nonce = randomBytes(12);
  const c = createCipheriv("chacha20-poly1305", responseKey, nonce, { authTagLength: 16 });
  c.setAAD(responseAad(r.session_id, r.nonce), { plaintextLength: responseBody.length });
  const ct = Buffer.concat([c.update(responseBody), c.final(), c.getAuthTag()]);
  const response = {
    version: 1,
    session_id: r.session_id,
    nonce: r.nonce,
    aead_id: AEAD_ID,
    response_nonce: nonce.toString("base64"),
    ciphertext: ct.toString("base64"),
  };
  return { body: toHex(body), response: JSON.stringify(response) };
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

try {
  const cmd = JSON.parse(await readStdin());
  const ops = {
    client_seal: clientSeal,
    client_open: clientOpen,
    node_respond: nodeRespond,
    key_id: async (c) => ({ key_id: keyId(fromHex(c.pk)) }),
  };
  if (!(cmd.op in ops)) throw new Error(`unknown op ${cmd.op}`);
  process.stdout.write(JSON.stringify(await ops[cmd.op](cmd)) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ error: `${e?.name ?? "Error"}: ${e?.message ?? e}` }) + "\n");
  process.exitCode = 1;
}
