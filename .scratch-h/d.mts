import { verifyKey } from "discord-interactions";
import { createPrivateKey, createPublicKey, sign } from "node:crypto";
const seed = Buffer.alloc(32, 7);
const priv = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const pubHex = Buffer.from(createPublicKey(priv).export({ format: "jwk" }).x!, "base64url").toString("hex");
const ts = "1700000000", body = '{"type":1}';
const sig = sign(null, Buffer.from(ts + body), priv).toString("hex");
console.log(pubHex, await verifyKey(body, sig, ts, pubHex), await verifyKey(body + " ", sig, ts, pubHex));
