import assert from "node:assert/strict";
import {
  type ConsumerPlace,
  denialMessage,
  describeDenial,
  permissionDenial,
} from "../../../src/config/permission_denial.ts";

const PLACE: ConsumerPlace = {
  index: 0,
  name: "price-orders",
  file: "consumers.yaml",
  line: 9,
  permissions: { net: { path: "consumers[0].permissions.net", line: 12 } },
};

Deno.test("permissionDenial() reads Deno's denial from NotCapable, from an import's TypeError and through causes", () => {
  const notCapable = new Error(
    'Requires env access to "PRICE_URL", run again with the --allow-env flag',
  );
  notCapable.name = "NotCapable";
  assert.deepEqual(permissionDenial(notCapable), { kind: "env", target: "PRICE_URL" });
  assert.deepEqual(
    permissionDenial(
      new TypeError(
        'Requires read access to "/srv/h/lib.ts", run again with the --allow-read flag\n    at file:///srv/h/handler.ts:1:19',
      ),
    ),
    { kind: "read", target: "/srv/h/lib.ts" },
  );
  assert.deepEqual(
    permissionDenial(
      new Error("connect failed", {
        cause: new Error(
          'Requires net access to "127.0.0.1:5432", run again with the --allow-net flag',
        ),
      }),
    ),
    { kind: "net", target: "127.0.0.1:5432" },
  );
  assert.deepEqual(
    permissionDenial(new Error("Requires env access, run again with the --allow-env flag")),
    {
      kind: "env",
      target: null,
    },
  );
  assert.equal(permissionDenial(new Error("Permission denied (os error 13)")), null);
  assert.equal(permissionDenial(null), null);
  assert.equal(permissionDenial("Requires magic access"), null);
});

Deno.test("denialMessage() names the consumer and the YAML key that grants the access, with its line", () => {
  assert.equal(
    denialMessage({ kind: "net", target: "127.0.0.1:5432" }, PLACE),
    "consumers[0] (price-orders): the handler needs net access to 127.0.0.1:5432 — add it to " +
      "consumers[0].permissions.net (consumers.yaml:12)",
  );
  // Not set anywhere: the consumer's own key, at the consumer's line.
  assert.equal(
    denialMessage({ kind: "env", target: "PRICE_URL" }, PLACE),
    "consumers[0] (price-orders): the handler needs env access to PRICE_URL — add it to " +
      "consumers[0].permissions.env (consumers.yaml:9)",
  );
  // Set in defaults: that is where it is added.
  assert.equal(
    denialMessage({ kind: "read", target: "/srv/h/lib.ts" }, {
      ...PLACE,
      permissions: { read: { path: "defaults.permissions.read", line: 4 } },
    }),
    "consumers[0] (price-orders): the handler needs read access to /srv/h/lib.ts — add it, or a " +
      "directory above it, to defaults.permissions.read (consumers.yaml:4)",
  );
  assert.equal(
    denialMessage({ kind: "run", target: "ls" }, PLACE),
    "consumers[0] (price-orders): the handler needs run access to ls, which consumerd does not " +
      "grant to handlers (consumers[0].permissions grants net, read, write and env)",
  );
  assert.match(
    denialMessage({ kind: "env", target: null }, PLACE),
    /needs env access to all of them, not one by name — only those listed in consumers\[0\]\.permissions\.env \(consumers\.yaml:9\)/,
  );
});

Deno.test("describeDenial() is null for other errors and without a place", () => {
  const denied = new Error('Requires net access to "db:5432", run again with the --allow-net flag');
  assert.equal(describeDenial(new Error("boom"), PLACE), null);
  assert.equal(describeDenial(denied, undefined), null);
  assert.match(String(describeDenial(denied, PLACE)), /permissions\.net/);
});
