import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  batchEndUs,
  batchExtension,
  programEnv,
  parseProgramLine,
  parseSampleTimes,
} from "../../node/source/program-protocol.js";

describe("sensor program protocol (node/source/program-protocol.ts)", () => {
  it("gives the program its session in the environment", () => {
    assert.deepEqual(
      programEnv({
        node: "IMU1",
        session: "s1",
        outDir: "/data/s1/incoming",
        batchDurationS: 2.5,
        zeroUs: 1_796_227_468_012_345,
        durationS: null,
        firstSeq: 7,
        run: 1,
      }),
      {
        LABX_NODE: "IMU1",
        LABX_SESSION: "s1",
        LABX_OUT_DIR: "/data/s1/incoming",
        LABX_BATCH_DURATION: "2.5",
        LABX_START_EPOCH_S: "1796227468.012345",
        LABX_DURATION: "",
        LABX_FIRST_SEQ: "7",
        LABX_RUN: "1",
      },
    );
  });

  it("reads started and batch lines; other text is the program's own", () => {
    assert.deepEqual(parseProgramLine('{"started": 1796227468.25492}'), {
      kind: "started",
      firstUs: 1_796_227_468_254_920,
    });
    assert.deepEqual(
      parseProgramLine('{"batch":"a.npz","times":"a.times.csv","end":1796227470.012,"last":true}'),
      {
        kind: "batch",
        file: "a.npz",
        times: "a.times.csv",
        endUs: 1_796_227_470_012_000,
        last: true,
      },
    );
    assert.deepEqual(parseProgramLine('{"batch":"a.bin","times":"a.csv"}'), {
      kind: "batch",
      file: "a.bin",
      times: "a.csv",
      endUs: null,
      last: false,
    });
    assert.deepEqual(parseProgramLine("calibrating gyro..."), { kind: "text", text: "calibrating gyro..." });
  });

  it("refuses names that could leave LABX_OUT_DIR, and malformed lines, saying why", () => {
    const why = (line: string): string => {
      const r = parseProgramLine(line);
      assert.equal(r.kind, "invalid", line);
      return (r as { why: string }).why;
    };
    for (const name of ["../x.csv", "/etc/passwd", "a/b.csv", ".hidden", "..", "", "a\u0000b"])
      assert.match(
        why(JSON.stringify({ batch: name, times: "t.csv" })),
        /batch: expected a file name in LABX_OUT_DIR/,
      );
    assert.match(why('{"batch":"a.csv","times":"a.csv"}'), /the same file/);
    assert.match(why('{"batch":"a.csv","times":"t.csv","end":"soon"}'), /end: expected epoch seconds/);
    assert.match(why('{"started": -1}'), /started: expected epoch seconds/);
    assert.match(why("{not json"), /not JSON/);
    assert.match(why("{}"), /neither started nor batch/);
  });

  it("reads sample times exactly (µs from the digits), or a start/end pair", () => {
    assert.deepEqual(parseSampleTimes("sample,epoch_s\n0,1796227468.254920\n1,1796227468.264931\n"), {
      kind: "samples",
      samplesUs: [1_796_227_468_254_920, 1_796_227_468_264_931],
    });
    // The camera's own sidecar format is accepted as it is.
    assert.deepEqual(
      parseSampleTimes(
        "frame,batch_frame,pts_s,epoch_s,time_utc\n0,0,0.000000,1796227468.000001,2026-12-02T16:04:28.000001Z\n",
      ),
      { kind: "samples", samplesUs: [1_796_227_468_000_001] },
    );
    assert.deepEqual(
      parseSampleTimes("start_epoch_s,end_epoch_s,samples\n1796227468.5,1796227470.5,4096\n"),
      {
        kind: "span",
        startUs: 1_796_227_468_500_000,
        endUs: 1_796_227_470_500_000,
        samples: 4096,
      },
    );
    assert.throws(() => parseSampleTimes("epoch_s\n2.0\n1.0\n"), /line 3: times go back/);
    assert.throws(() => parseSampleTimes("epoch_s\n1.0\nsoon\n"), /line 3: "soon" is not epoch seconds/);
    assert.throws(() => parseSampleTimes("epoch_s\n"), /no sample rows/);
    assert.throws(() => parseSampleTimes("t,v\n1,2\n"), /neither epoch_s nor start_epoch_s,end_epoch_s/);
    assert.throws(() => parseSampleTimes("start_epoch_s,end_epoch_s\n2,1\n"), /end_epoch_s is before/);
  });

  it("ends a batch where the program says, else one median interval after its last sample", () => {
    assert.equal(batchEndUs([0, 10, 20, 31], null), 41);
    assert.equal(batchEndUs([0, 10, 20], 25), 25);
    assert.equal(batchEndUs([0, 10, 20], 5), 20, "never before its last sample");
    assert.equal(batchEndUs([7], null), 7);
  });

  it("keeps the program's extension", () => {
    assert.equal(batchExtension("imu-1.CSV"), "csv");
    assert.equal(batchExtension("radar.npz"), "npz");
    assert.equal(batchExtension("raw"), "bin");
  });
});
