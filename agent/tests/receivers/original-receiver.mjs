// A receiver written the way the original service documented its Node verifier: the body is
// parsed as JSON first (as `express.json()` does), and the HMAC-SHA256 is recomputed over
// `JSON.stringify(req.body)`, hex-encoded and compared with X-Guardrails-Signature.
// Environment: GUARDRAILS_WEBHOOK_SECRET, PORT (0 picks a free one; printed on the first line).
import crypto from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.GUARDRAILS_WEBHOOK_SECRET;

function verifyWebhook(req) {
  const signature = req.headers["x-guardrails-signature"] ?? "";
  const expected = "sha256=" + crypto.createHmac("sha256", secret).update(JSON.stringify(req.body)).digest("hex");
  return signature.length === expected.length && crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    req.body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (!verifyWebhook(req)) {
      console.log(JSON.stringify({ rejected: "signature" }));
      res.writeHead(401).end();
      return;
    }
    console.log(JSON.stringify({ verified: "original-node", event_type: req.body.event_type }));
    res.writeHead(200).end();
  });
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => console.log(server.address().port));
