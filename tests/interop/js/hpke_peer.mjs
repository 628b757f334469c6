// HPKE (RFC 9180) peer for tests/interop/hpke_interop_test.cc, built on the npm implementation @hpke/core
// (ChaCha20-Poly1305 from @hpke/chacha20poly1305, which @hpke/core 1.9 does not include).
//
// Reads one JSON command on stdin, writes one JSON result on stdout. Byte strings are lowercase hex.
//   {"op":"seal","kem":32,"kdf":1,"aead":1|2|3|65535 (export-only),"mode":"base"|"auth","pkR":..,"skS":..(auth),"info":..,
//    "aad":..,"pts":[..],"exporter_context":..,"L":32}
//     -> {"enc":..,"cts":[..],"exported":..}
//   {"op":"open","kem":32,"kdf":1,"aead":..,"mode":..,"skR":..,"pkS":..(auth),"enc":..,"info":..,"aad":..,
//    "cts":[..],"exporter_context":..,"L":32}
//     -> {"pts":[..],"exported":..}
// Any failure (including an authentication failure) -> {"error":"<name>: <message>"} and exit code 1.
import {
  Aes128Gcm,
  Aes256Gcm,
  CipherSuite,
  DhkemX25519HkdfSha256,
  ExportOnly,
  HkdfSha256,
} from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";

const fromHex = (h) => new Uint8Array(Buffer.from(h ?? "", "hex"));
const toHex = (b) => Buffer.from(new Uint8Array(b)).toString("hex");

function makeSuite(cmd) {
  if (cmd.kem !== 0x0020) throw new Error(`unsupported kem ${cmd.kem}`);
  if (cmd.kdf !== 0x0001) throw new Error(`unsupported kdf ${cmd.kdf}`);
  const aeads = { 1: Aes128Gcm, 2: Aes256Gcm, 3: Chacha20Poly1305, 65535: ExportOnly };
  const Aead = aeads[cmd.aead];
  if (Aead === undefined) throw new Error(`unsupported aead ${cmd.aead}`);
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aead() });
}

function checkMode(cmd) {
  if (cmd.mode !== "base" && cmd.mode !== "auth") throw new Error(`unsupported mode ${cmd.mode}`);
  return cmd.mode === "auth";
}

async function seal(cmd) {
  const suite = makeSuite(cmd);
  const auth = checkMode(cmd);
  const params = {
    recipientPublicKey: await suite.kem.deserializePublicKey(fromHex(cmd.pkR)),
    info: fromHex(cmd.info),
  };
  if (auth) params.senderKey = await suite.kem.deserializePrivateKey(fromHex(cmd.skS));
  const sender = await suite.createSenderContext(params);
  const aad = fromHex(cmd.aad);
  const cts = [];
  for (const pt of cmd.pts) cts.push(toHex(await sender.seal(fromHex(pt), aad)));
  const exported = await sender.export(fromHex(cmd.exporter_context), cmd.L);
  return { enc: toHex(sender.enc), cts, exported: toHex(exported) };
}

async function open(cmd) {
  const suite = makeSuite(cmd);
  const auth = checkMode(cmd);
  const params = {
    recipientKey: await suite.kem.deserializePrivateKey(fromHex(cmd.skR)),
    enc: fromHex(cmd.enc),
    info: fromHex(cmd.info),
  };
  if (auth) params.senderPublicKey = await suite.kem.deserializePublicKey(fromHex(cmd.pkS));
  const recipient = await suite.createRecipientContext(params);
  const aad = fromHex(cmd.aad);
  const pts = [];
  for (const ct of cmd.cts) pts.push(toHex(await recipient.open(fromHex(ct), aad)));
  const exported = await recipient.export(fromHex(cmd.exporter_context), cmd.L);
  return { pts, exported: toHex(exported) };
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

try {
  const cmd = JSON.parse(await readStdin());
  const ops = { seal, open };
  if (!(cmd.op in ops)) throw new Error(`unknown op ${cmd.op}`);
  process.stdout.write(JSON.stringify(await ops[cmd.op](cmd)) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ error: `${e?.name ?? "Error"}: ${e?.message ?? e}` }) + "\n");
  process.exitCode = 1;
}
