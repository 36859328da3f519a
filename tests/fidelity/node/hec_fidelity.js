#!/usr/bin/env node
// Drives the icsfwd HEC emulator with Splunk's official Node HEC client (splunk-logging).
//
// Usage: node hec_fidelity.js --url https://127.0.0.1:PORT   (token in $ICSFWD_FIDELITY_TOKEN)
//
// What it sends, in this order, each awaited before the next:
//   1. SINGLES: one request per event (maxBatchCount 1), each with index/host/source/sourcetype.
//   2. BATCH: one logger with maxBatchCount = BATCH.length, so the last send() flushes all
//      of them as one request body of concatenated envelopes.
// The default event formatter wraps each message as {"message": ..., "severity": ...}.
// It prints one JSON summary on stdout; any error (the logger's error callback, a transport
// error, an HTTP status other than 200 or a body other than code 0) exits with status 1.
//
// TLS: splunk-logging 0.11.1 defaults to strictSSL false (no verification); this script sets
// strictSSL true, and the CA is trusted through NODE_EXTRA_CA_CERTS, so verification is on.
"use strict";

const SplunkLogger = require("splunk-logging").Logger;

const SINGLES = [
  { message: "plc stop on PLC-7", severity: "info",
    metadata: { index: "main", host: "sensor-a", source: "icsfwd:node", sourcetype: "icsfwd:alert" } },
  { message: "Störung: Ventil V-101 — 温度 ✓", severity: "warn",
    metadata: { index: "main", host: "sensor-ü", source: "icsfwd:node", sourcetype: "icsfwd:alert" } },
  { message: { id: 7, title: "modbus write", tags: ["ot", "plc"] }, severity: "error",
    metadata: { index: "main", host: "sensor-b", source: "icsfwd:node json", sourcetype: "icsfwd:json" } },
];
const BATCH = [1, 2, 3, 4, 5].map((n) => ({
  message: `batched event ${n}\nsecond line ${n}`,
  severity: "info",
  metadata: { index: "main", host: "sensor-batch", source: "icsfwd:node batch", sourcetype: "icsfwd:alert" },
}));

function fail(what) {
  process.stderr.write(`hec_fidelity: ${what}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const urlAt = argv.indexOf("--url");
  if (urlAt < 0 || !argv[urlAt + 1]) fail("usage: hec_fidelity.js --url <scheme://host:port>");
  const token = process.env.ICSFWD_FIDELITY_TOKEN;
  if (!token) fail("set the HEC token in $ICSFWD_FIDELITY_TOKEN");
  return { url: argv[urlAt + 1], token };
}

function makeLogger(url, token, maxBatchCount) {
  const logger = new SplunkLogger({ token, url, maxBatchCount, maxRetries: 0 });
  logger.requestOptions.strictSSL = true;
  logger.error = (err, context) => {
    // Never print the context: it holds the request, which holds the token header.
    fail(`logger error: ${err && err.message ? err.message : err} (code ${err && err.code})`);
  };
  return logger;
}

// Resolves with the parsed reply body once the request is answered; fails on any error.
function send(logger, payload) {
  return new Promise((resolve) => {
    logger.send(payload, (err, resp, body) => {
      if (err) fail(`transport error: ${err.message || err}`);
      const status = resp && resp.statusCode;
      const parsed = Buffer.isBuffer(body) ? JSON.parse(body.toString("utf8")) : body;
      if (status !== 200 || !parsed || parsed.code !== 0) {
        fail(`HTTP ${status}: ${JSON.stringify(parsed)}`);
      }
      resolve(parsed);
    });
  });
}

async function main() {
  const { url, token } = parseArgs(process.argv.slice(2));
  const replies = [];
  const single = makeLogger(url, token, 1);
  for (const payload of SINGLES) replies.push(await send(single, payload));

  const batch = makeLogger(url, token, BATCH.length);
  for (const payload of BATCH.slice(0, -1)) {
    batch.send(payload); // queued: below maxBatchCount nothing is sent
  }
  if (batch.serializedContextQueue.length !== BATCH.length - 1) fail("batch flushed early");
  replies.push(await send(batch, BATCH[BATCH.length - 1]));

  const pkg = require("splunk-logging/package.json");
  process.stdout.write(JSON.stringify({
    client: "splunk-logging",
    client_version: pkg.version,
    node: process.version,
    requests: replies.length,
    replies,
    singles: SINGLES,
    batch: BATCH,
  }) + "\n");
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
