// A Guardrails webhook receiver in Node (no dependencies): verifies the Standard Webhooks
// signature over the raw body, then dedupes on X-Guardrails-Delivery.
// Environment: GUARDRAILS_WEBHOOK_SECRET, PORT (0 picks a free one; printed on the first line).
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.GUARDRAILS_WEBHOOK_SECRET;
// whsec_ secrets carry a base64 key; any other secret is used as its UTF-8 bytes.
const key = secret.startsWith("whsec_") ? Buffer.from(secret.slice(6), "base64") : Buffer.from(secret, "utf8");
const toleranceSeconds = 5 * 60;
const seen = new Set();

function verify(headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  return signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    const given = Buffer.from(signature ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks); // the raw bytes: never re-serialise before verifying
    if (!verify(req.headers, body)) {
      console.log(JSON.stringify({ rejected: "signature" }));
      res.writeHead(401).end();
      return;
    }
    const delivery = req.headers["x-guardrails-delivery"];
    if (!seen.has(delivery)) {
      seen.add(delivery);
      const event = JSON.parse(body);
      console.log(JSON.stringify({ verified: "node", event_type: event.event_type, delivery }));
    }
    res.writeHead(204).end();
  });
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => console.log(server.address().port));
