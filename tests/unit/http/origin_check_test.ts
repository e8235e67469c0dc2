import assert from "node:assert/strict";
import { crossOriginProblem } from "../../../src/http/origin_check.ts";

const headers = (init: Record<string, string>) => new Headers({ host: "127.0.0.1:9464", ...init });

Deno.test("crossOriginProblem() passes requests from the server's own origin and from non-browsers", () => {
  assert.equal(crossOriginProblem(headers({})), null, "curl sends neither header");
  assert.equal(crossOriginProblem(headers({ origin: "http://127.0.0.1:9464" })), null);
  assert.equal(crossOriginProblem(headers({ origin: "https://127.0.0.1:9464" })), null);
  assert.equal(crossOriginProblem(headers({ "sec-fetch-site": "same-origin" })), null);
  assert.equal(crossOriginProblem(headers({ "sec-fetch-site": "none" })), null);
});

Deno.test("crossOriginProblem() refuses another origin, even on the same host, and cross-site fetches", () => {
  assert.match(
    crossOriginProblem(headers({ origin: "http://evil.example" })) ?? "",
    /^a request from http:\/\/evil\.example \(Origin\) may not change anything here, which is http:\/\/127\.0\.0\.1:9464/,
  );
  for (const origin of ["http://localhost:8080", "http://127.0.0.1:9465", "null"]) {
    assert.notEqual(crossOriginProblem(headers({ origin })), null, origin);
  }
  assert.match(
    crossOriginProblem(headers({ "sec-fetch-site": "cross-site" })) ?? "",
    /^a cross-site request \(Sec-Fetch-Site\)/,
  );
  assert.notEqual(crossOriginProblem(headers({ "sec-fetch-site": "same-site" })), null);
  assert.notEqual(
    crossOriginProblem(
      headers({ origin: "http://127.0.0.1:9464", "sec-fetch-site": "cross-site" }),
    ),
    null,
  );
});
