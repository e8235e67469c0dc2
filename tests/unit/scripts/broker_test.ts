import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BROKER_USER, brokerOptions, serverProperties } from "../../../scripts/broker.ts";
import { subjectAltNames } from "../../../scripts/broker_tls.ts";

const TEMPLATE = fileURLToPath(new URL("../../../config/kafka/server.properties", import.meta.url));

Deno.test("brokerOptions() puts the SASL_SSL and SSL listeners at the port + 4 and + 5", () => {
  const options = brokerOptions({ port: 49092, stateDir: "/tmp/state" });
  assert.equal(options.saslSslPort, 49096);
  assert.equal(options.sslPort, 49097);
  assert.throws(() => brokerOptions({ port: 65531 }), /must be 1\.\.65530: current value is 65531/);
});

Deno.test("serverProperties() fills every placeholder: the secured listeners, the keystore, the user", async () => {
  const options = brokerOptions({ host: "127.0.0.1", port: 49092, stateDir: "/tmp/state" });
  const text = serverProperties(await Deno.readTextFile(TEMPLATE), options);
  const settings = text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  assert.doesNotMatch(settings, /\{\{|\}\}/);
  const property = (name: string) =>
    text.split("\n").find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);
  assert.equal(
    property("advertised.listeners"),
    "PLAINTEXT://127.0.0.1:49092,PROXIED://127.0.0.1:49095,SASL_SSL://127.0.0.1:49096," +
      "SSL://127.0.0.1:49097",
  );
  assert.equal(property("ssl.keystore.location"), "/tmp/state/tls/broker.p12");
  assert.equal(property("log.dirs"), "/tmp/state/data");
  assert.match(
    property("listener.name.sasl_ssl.plain.sasl.jaas.config")!,
    new RegExp(`user_${BROKER_USER.username}="${BROKER_USER.password}";$`),
  );
  assert.throws(() => serverProperties("a={{nope}}", options), /Unknown placeholder.*\{\{nope\}\}/);
});

Deno.test("subjectAltNames() names loopback always, and the broker's own host", () => {
  assert.equal(subjectAltNames("127.0.0.1"), "ip:127.0.0.1,dns:localhost");
  assert.equal(subjectAltNames("10.0.0.5"), "ip:127.0.0.1,dns:localhost,ip:10.0.0.5");
  assert.equal(subjectAltNames("kafka.local"), "ip:127.0.0.1,dns:localhost,dns:kafka.local");
});
