// The load generator of bench/http.bench.ts, run in its own process so it does not share the
// server's event loop: autocannon POSTing a fresh, correctly Stripe-signed event per request.
// argv: url seconds connections secret label; prints autocannon's result as one JSON line.
import { createHmac } from "node:crypto";
import autocannon from "autocannon";

const [url, seconds, connections, secret, label] = process.argv.slice(2) as [string, string, string, string, string];
let sequence = 0;

function signedEvent(): { body: string; signature: string } {
  const id = `evt_${label}_${process.pid}_${(sequence++).toString().padStart(9, "0")}`;
  const body = JSON.stringify({
    id, object: "event", type: "checkout.session.completed",
    data: { object: { id: `cs_${sequence}`, amount_total: 4200, currency: "eur", customer: "cus_123", metadata: { order: String(sequence) } } },
  });
  const t = Math.floor(Date.now() / 1000);
  return { body, signature: `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}` };
}

const cpuBefore = process.cpuUsage();
const result = await autocannon({
  url,
  duration: Number(seconds),
  connections: Number(connections),
  requests: [{
    method: "POST",
    setupRequest: (request) => {
      const { body, signature } = signedEvent();
      return { ...request, body, headers: { "content-type": "application/json", "stripe-signature": signature } };
    },
  }],
});
process.stdout.write(`${JSON.stringify({
  requestsPerSecond: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  total: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  generatorCpuMs: (() => {
    const used = process.cpuUsage(cpuBefore);
    return (used.user + used.system) / 1000;
  })(),
})}\n`);
