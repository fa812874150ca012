// A client generated from openapi/openapi.json (openapi-typescript types, openapi-fetch
// calls) talks to a running service at SERVICE_URL. `tsc` compiles this file against the
// generated types first, so a drift between the document and this code fails the run.
import assert from "node:assert/strict";
import { test } from "node:test";

import createClient from "openapi-fetch";

import type { components, operations, paths } from "../src/schema.js";

type Schemas = components["schemas"];
type KLValidationError = operations["kl"]["responses"][422]["content"]["application/json"];

const baseUrl = process.env.SERVICE_URL;
if (!baseUrl) {
  throw new Error("SERVICE_URL is not set: it must be the base URL of a running service");
}
const client = createClient<paths>({ baseUrl });

const P = [0.1, 0.4, 0.5];
const Q = [0.8, 0.15, 0.05];

function klOf(p: readonly number[], q: readonly number[], log: (x: number) => number): number {
  return p.reduce((sum, pi, i) => sum + (pi > 0 ? pi * log(pi / (q[i] ?? Number.NaN)) : 0), 0);
}

function assertClose(actual: number, expected: number, relTol = 1e-12): void {
  const scale = Math.max(Math.abs(actual), Math.abs(expected), Number.MIN_VALUE);
  assert.ok(
    Math.abs(actual - expected) <= relTol * scale,
    `${actual} is not within ${relTol} (relative) of ${expected}`,
  );
}

test("POST /kl: a finite value equal to sum p log(p/q)", async () => {
  const body: Schemas["KLRequest"] = { p: P, q: Q };
  const { data, error, response } = await client.POST("/kl", { body });
  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  assert.ok(data);
  const answer: Schemas["KLResponse"] = data;
  assert.equal(answer.finite, true);
  assert.equal(answer.infinite_at, null);
  assert.equal(answer.unit, "nat");
  assert.equal(typeof answer.kl, "number");
  assertClose(answer.kl as number, klOf(P, Q, Math.log));
});

test("POST /kl: an infinite value is null, not finite, with the index to blame", async () => {
  const { data, error, response } = await client.POST("/kl", {
    body: { p: [0.2, 0.3, 0.5], q: [0.5, 0.5, 0.0] },
  });
  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  assert.ok(data);
  const kl: number | null = data.kl;
  const infiniteAt: number | null = data.infinite_at;
  assert.equal(kl, null);
  assert.equal(data.finite, false);
  assert.equal(infiniteAt, 2);
});

test("POST /kl/batch: one value per row, in bits, with a summary", async () => {
  const body: Schemas["KLBatchRequest"] = { p: [P, Q], q: Q, base: 2 };
  const { data, error, response } = await client.POST("/kl/batch", { body });
  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  // 200 is documented as JSON or an Arrow stream (binary, a string in the types): this
  // request asks for JSON.
  assert.ok(data && typeof data !== "string", `not a JSON answer: ${String(data)}`);
  const answer: Schemas["KLBatchResponse"] = data;
  assert.equal(answer.unit, "bit");
  assert.deepEqual(answer.finite, [true, true]);
  assert.deepEqual(answer.infinite_at, [null, null]);
  assert.equal(answer.kl.length, 2);
  [P, Q].forEach((row, i) => {
    const value = answer.kl[i];
    assert.equal(typeof value, "number", `row ${i}`);
    // KL(Q || Q) is 0: compare it absolutely, the other relatively.
    const expected = klOf(row, Q, Math.log2);
    if (expected === 0) assert.ok(Math.abs(value as number) < 1e-15, `row ${i}: ${value}`);
    else assertClose(value as number, expected);
  });
  const summary: Schemas["BatchSummary"] = answer.summary;
  assert.equal(summary.rows, 2);
  assert.equal(summary.infinite_rows, 0);
});

test("POST /divergences/{name}: a member of the family by path parameter", async () => {
  const { data, error, response } = await client.POST("/divergences/{name}", {
    params: { path: { name: "js" } },
    body: { p: P, q: Q },
  });
  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  assert.ok(data);
  const answer: Schemas["DivergenceResponse"] = data;
  assert.equal(answer.divergence, "js");
  assert.equal(answer.finite, true);
  const m = P.map((pi, i) => (pi + (Q[i] ?? Number.NaN)) / 2);
  const expected = 0.5 * klOf(P, m, Math.log) + 0.5 * klOf(Q, m, Math.log);
  assertClose(answer.value as number, expected);
});

test("GET /divergences: the family, each member described", async () => {
  const { data, error, response } = await client.GET("/divergences");
  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  assert.ok(data);
  const family: Schemas["DivergenceInfo"][] = data;
  const names = family.map((d) => d.name);
  for (const name of ["kl", "reverse_kl", "js", "hellinger", "renyi"]) {
    assert.ok(names.includes(name), `${name} is not listed: ${names.join(", ")}`);
  }
  const kl = family.find((d) => d.name === "kl");
  assert.ok(kl);
  assert.equal(kl.symmetric, false);
  assert.equal(kl.needs_q, true);
  assert.equal(kl.uses_base, true);
  assert.equal(kl.unit, "nat");
  assert.ok(family.find((d) => d.name === "renyi")?.parameters.includes("alpha"));
});

test("POST /kl: invalid input is a 422 read as the documented error body", async () => {
  const { data, error, response } = await client.POST("/kl", {
    body: { p: [0.5, 0.5], q: [0.2, 0.3, 0.5] },
  });
  assert.equal(response.status, 422);
  assert.equal(data, undefined);
  assert.ok(error);
  // The error type is the union of the documented error bodies (413, 415, 422); a list of
  // items in `detail` is the 422 one.
  assert.ok(Array.isArray(error.detail), `detail is not a list: ${JSON.stringify(error)}`);
  const body: KLValidationError = { detail: error.detail };
  assert.ok(body.detail.length > 0);
  for (const item of body.detail) {
    const typed: Schemas["ErrorItem"] = item;
    assert.equal(typeof typed.type, "string");
    assert.equal(typeof typed.msg, "string");
    assert.ok(typed.msg.length > 0);
    assert.ok(Array.isArray(typed.loc));
  }
  assert.equal(body.detail[0]?.loc[0], "body");
});

test("GET /healthz: alive", async () => {
  const { data, error, response } = await client.GET("/healthz");
  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  const health: Schemas["Health"] | undefined = data;
  assert.deepEqual(health, { status: "ok" });
});
