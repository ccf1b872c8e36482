import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { startAedes } from "../helpers/aedes.js";

/** An MQTT 3.1.1 CONNECT written by hand (MQTT.js would not send this one): client id, clean flag. */
function connectPacket(clientId: string, clean: boolean): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([
    Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, clean ? 0x02 : 0x00, 0x00, 0x3c]),
    Buffer.from([id.length >> 8, id.length & 0xff]),
    id,
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** Sends one CONNECT; resolves with every byte the broker sent and whether it closed the connection. */
function handshake(port: number, packet: Buffer): Promise<{ bytes: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(packet));
    let bytes = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ bytes, closed: false });
    }, 2000);
    s.on("data", (d) => (bytes = Buffer.concat([bytes, d])));
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ bytes, closed: true });
    });
    s.on("error", reject);
  });
}

describe("the embedded broker speaks MQTT 3.1.1 where aedes 1.x does not (real aedes, raw packets)", () => {
  it("an empty client id with clean session 0 gets CONNACK 0x02 and is closed [MQTT-3.1.3-8]; with clean session 1 it is accepted", async () => {
    const broker = await startAedes();
    try {
      const refused = await handshake(broker.port, connectPacket("", false));
      assert.deepEqual([...refused.bytes], [0x20, 0x02, 0x00, 0x02], "CONNACK, identifier rejected");
      assert.equal(refused.closed, true);
      const accepted = await handshake(broker.port, connectPacket("", true));
      assert.deepEqual([...accepted.bytes.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00], "CONNACK, accepted");
      const named = await handshake(broker.port, connectPacket("kept", false));
      assert.deepEqual([...named.bytes.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00]);
    } finally {
      await broker.stop();
    }
  });
});
