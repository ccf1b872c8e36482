import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSecrets, redactor, redactUrl, urlSecrets } from "../../platform/secrets.js";

describe("secrets: pure redaction", () => {
  it("drops URL user info, keeps scheme, host, port and path", () => {
    assert.equal(
      redactUrl("[error] http://admin:s3cret@10.0.0.5:8080/cam: Connection refused"),
      "[error] http://***@10.0.0.5:8080/cam: Connection refused",
    );
    assert.equal(
      redactUrl("rtsp://u:p@cam/s and mqtt://x:y@b:1883"),
      "rtsp://***@cam/s and mqtt://***@b:1883",
    );
    assert.equal(redactUrl("mqtt://broker:1883 a@b.c"), "mqtt://broker:1883 a@b.c");
  });

  it("finds the passwords of URLs, written and percent-decoded, and the broker password", () => {
    assert.deepEqual(urlSecrets("rtsp://admin:p%40ss@cam/"), ["p%40ss", "p@ss"]);
    assert.deepEqual(urlSecrets("rtsp://admin@cam/"), []);
    assert.deepEqual(
      configSecrets(
        {
          camera: "http://a:cpw1@h/",
          broker_url: "mqtt://b:bpw1@h,mqtt://c:bpw2@i",
          broker_password: "envpw",
        },
        {},
      ),
      ["cpw1", "cpw1", "bpw1", "bpw1", "bpw2", "bpw2", "envpw"],
    );
    // The object store's secret key and session token come from the environment (docs/upload.md).
    assert.deepEqual(
      configSecrets(
        {},
        { AWS_ACCESS_KEY_ID: "AKIDPUBLIC", AWS_SECRET_ACCESS_KEY: "s3secret", AWS_SESSION_TOKEN: "tok123" },
      ),
      ["s3secret", "tok123"],
    );
  });

  it("removes known secrets wherever they stand, JSON-escaped too; short ones are left", () => {
    const redact = redactor(['pa"ss1', "envpw", "ab"]);
    assert.equal(redact('{"msg":"login envpw failed"}'), '{"msg":"login *** failed"}');
    assert.equal(redact(JSON.stringify({ m: 'x pa"ss1 y' })), '{"m":"x *** y"}');
    assert.equal(redact("about"), "about");
  });
});
