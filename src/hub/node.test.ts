import { describe, expect, it } from "vitest";
import type { Hub, HubNodeStats } from "../types.js";
import { InputError } from "../errors.js";
import { HubNode } from "./node.js";

// What a node does when the hub refuses it for good (a Redis database the server refuses): it
// says so once, to the campaign, which stops; a hub that is merely unreachable is retried.

/** A hub whose every operation fails with `error`. */
function failingHub(error: () => Error): Hub {
  const fail = () => Promise.reject(error());
  return new Proxy({}, { get: (_t, key) => (key === "serveShards" ? () => ({ close: async () => undefined }) : fail) }) as Hub;
}

function node(hub: Hub, refusals: string[], logged: string[]): HubNode {
  return new HubNode({
    hub, node: "n1", ownCorpus: () => [], crashes: "/nonexistent", shardWorkers: 0, fuzzesAlone: true,
    runShard: () => Promise.reject(new Error("no shards here")),
    log: (msg) => logged.push(msg), onRefused: (m) => refusals.push(m),
  });
}

describe("HubNode and a hub that refuses it", () => {
  it("tells the campaign once, however many operations fail that way", async () => {
    const refusals: string[] = [], logged: string[] = [];
    const n = node(failingHub(() => new InputError("hub redis://x/9: database 9 refused (ERR DB index is out of range)")), refusals, logged);
    for (let i = 0; i < 5; i++) n.publish({ json: "{}", bits: [i] });
    await n.stop(async () => undefined, 1000);
    expect(refusals).toEqual(["hub redis://x/9: database 9 refused (ERR DB index is out of range)"]);
    expect(logged.filter((m) => m === "hub refused this node")).toHaveLength(1);
  });

  it("an unreachable hub is no refusal: each failure is logged and retried later", async () => {
    const refusals: string[] = [], logged: string[] = [];
    const n = node(failingHub(() => new Error("connect ECONNREFUSED")), refusals, logged);
    for (let i = 0; i < 3; i++) n.publish({ json: "{}", bits: [i] });
    await n.stop(async () => undefined, 1000);
    expect(refusals).toEqual([]);
    expect(logged.filter((m) => m === "hub operation failed")).toHaveLength(3);
  });
});

describe("HubNode.leave", () => {
  it("posts the node's last stats saying it left, after its shards are handed back", async () => {
    const calls: string[] = [];
    const posted: HubNodeStats[] = [];
    const hub = new Proxy({}, {
      get: (_t, key) => key === "postNodeStats"
        ? (s: HubNodeStats) => (calls.push("post"), posted.push(s), Promise.resolve())
        : () => Promise.resolve(),
    }) as Hub;
    const n = node(hub, [], []);
    await n.stop(async () => void calls.push("abort"), 1000);
    await n.leave(1234, 1000);
    expect(calls).toEqual(["abort", "post"]);
    expect(posted).toEqual([expect.objectContaining({ node: "n1", execs: 1234, execsPerSec: 0, left: true })]);
  });
});
