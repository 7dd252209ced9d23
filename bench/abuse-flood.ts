// The flooding clients of bench/abuse.bench.ts, in a process of their own (an attacker does not
// share the event loop of the client whose latency is measured): argv = port, clients. Each
// client posts the same unsigned 3 MB JSON body in a loop until stdin closes, then the process
// prints how many requests were sent.
import { request } from "node:http";

const port = Number(process.argv[2]);
const clients = Number(process.argv[3] ?? 2);

/** An object with many keys, the shape that costs JSON.parse the most per byte. */
function floodBody(): Buffer {
  const keys: string[] = [];
  for (let i = 0, length = 0; length < 3_000_000; i++) {
    keys.push(`"k${i}":${i},`);
    length += keys[i]!.length;
  }
  return Buffer.from(`{${keys.join("")}"id":"evt_flood","type":"invoice.paid"}`);
}

const body = floodBody();
let flooding = true;
let sent = 0;
process.stdin.on("close", () => (flooding = false)).resume();

function post(): Promise<void> {
  return new Promise((resolve, reject) => {
    // A signature header of the right shape with a fresh timestamp: the provider cannot refuse it
    // on headers alone and has to read and check the whole body.
    const headers = {
      "content-type": "application/json",
      "content-length": String(body.length),
      "stripe-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`,
    };
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/stripe", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    req.on("error", reject);
    req.end(body);
  });
}

console.log(body.length);
await Promise.all(Array.from({ length: clients }, async () => {
  while (flooding) {
    await post();
    sent++;
  }
}));
console.log(sent);
