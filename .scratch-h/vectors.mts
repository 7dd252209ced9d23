import { readdirSync, readFileSync } from "node:fs";
import { open } from "../src/index.js";
import { tempDbPath } from "../test/support.js";
let failed = 0, total = 0;
for (const name of process.argv.slice(2)) {
  for (const file of readdirSync(`providers/${name}`).filter((f) => f.endsWith(".json"))) {
    const v = JSON.parse(readFileSync(`providers/${name}/${file}`, "utf8"));
    const r = v.request, e = v.expected;
    const w = open(tempDbPath(), { now: () => r.now });
    try {
      const ep = w.endpoint("x", { path: "/x", provider: name, secrets: r.secrets, providerOptions: r.options });
      const body = r.bodyBase64 !== undefined ? Buffer.from(r.bodyBase64, "base64") : r.body ?? "";
      const res = await ep.receive({ body, headers: r.headers, query: r.query, method: r.method });
      const d = w.getDelivery(res.deliveryId)!;
      const problems: string[] = [];
      if (d.signatureValid !== e.valid) problems.push(`valid ${d.signatureValid} (${d.signatureError})`);
      if (e.errorContains && !(d.signatureError ?? "").includes(e.errorContains)) problems.push(`error ${d.signatureError}`);
      for (const k of ["eventType", "providerEventId", "providerDeliveryId"]) if (k in e && (d as any)[k] !== e[k]) problems.push(`${k} ${(d as any)[k]}`);
      if (e.statusCode !== undefined && res.statusCode !== e.statusCode) problems.push(`status ${res.statusCode}`);
      if (e.reply !== undefined && JSON.stringify(res.reply) !== JSON.stringify(e.reply)) problems.push(`reply ${JSON.stringify(res.reply)}`);
      if (e.valid && !e.statusCode && !e.reply && res.eventId === null) problems.push("no event");
      total++;
      if (problems.length) { failed++; console.log(`FAIL ${name}/${file}: ${problems.join("; ")}`); }
    } finally { w.close(); }
  }
}
console.log(`${total - failed}/${total} vectors ok`);
process.exitCode = failed ? 1 : 0;
