/**
 * The deployment files agree with each other, with the config schema and
 * with the repository: the Dockerfile, compose.yaml, deploy/config/ and
 * deploy/kubernetes/. No container engine or cluster runs here; what can be
 * checked without one is checked.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { loadConfigFile } from "../../../src/config/load.ts";
import { DAEMON_DENO_FLAGS } from "../../../src/runtime/deno.ts";
import {
  envAssignments,
  execForm,
  type Instruction,
  leadingOptions,
  parseDockerfile,
} from "../../harness/dockerfile.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));
const exists = (path: string) => {
  try {
    Deno.statSync(join(ROOT, path));
    return true;
  } catch {
    return false;
  }
};

// deno-lint-ignore no-explicit-any
type Yaml = any;

/** Measured with `deno task bench --scale 4,12` (README, Deploy): Deno daemon RSS, MiB. */
const DENO_BASE_MIB = 70;
const DENO_PER_WORKER_MIB = 24;

const dockerfile = parseDockerfile(read("Dockerfile"));
const lastStage = Math.max(...dockerfile.map((i) => i.stage));
const final = (keyword: string) =>
  dockerfile.filter((i) => i.stage === lastStage && i.keyword === keyword);
const one = (keyword: string): Instruction => {
  const found = final(keyword);
  assert.equal(found.length, 1, `the final stage has one ${keyword}`);
  return found[0]!;
};
const imageEnv = Object.assign({}, ...final("ENV").map(envAssignments)) as Record<string, string>;
const compose: Yaml = parseYaml(read("compose.yaml"));
const manifests: Yaml[] = ["configmap", "secret", "deployment", "scaledobject"].flatMap((name) =>
  parseAllDocuments(read(`deploy/kubernetes/${name}.yaml`)).map((d) => {
    assert.equal(d.errors.length, 0, `${name}.yaml: ${d.errors.join("; ")}`);
    return d.toJS();
  })
);
const manifest = (kind: string): Yaml => {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in deploy/kubernetes/`);
  return found[0];
};
const deployment = manifest("Deployment");
const container = deployment.spec.template.spec.containers[0];
/** The topic's partition count, from the compose service that creates it. */
const partitions = Number(
  compose.services.topics
    .entrypoint[compose.services.topics.entrypoint.indexOf("--partitions") + 1],
);

/** The container config as the daemon sees it (handlers imported, as a worker would). */
async function containerConfig(env: Record<string, string> = {}) {
  return await loadConfigFile(join(ROOT, "deploy", "config", "consumers.yaml"), {
    env: { KAFKA_BROKERS: "kafka:9092", CONSUMERD_TOKEN: "t", ...env },
  });
}

Deno.test("Dockerfile: multi-stage npm ci build, non-root user, exec-form CMD of the daemon", () => {
  assert.ok(lastStage >= 1, "at least two stages");
  const build = dockerfile.filter((i) => i.stage < lastStage);
  assert.ok(
    build.some((i) => i.keyword === "RUN" && /(^|&&\s*)npm ci\b/.test(i.args)),
    "the build stage installs with npm ci",
  );
  const user = one("USER").args.split(":")[0]!;
  assert.match(user, /^[1-9]\d*$/, "a numeric non-root uid (Kubernetes runAsNonRoot can check it)");
  assert.equal(String(deployment.spec.template.spec.securityContext.runAsUser), user);
  const cmd = execForm(one("CMD"));
  assert.equal(cmd[0], "node_modules/deno/deno", "the deno binary itself, no npm or shell");
  for (const flag of DAEMON_DENO_FLAGS) assert.ok(cmd.includes(flag), `the CMD passes ${flag}`);
  assert.ok(exists(cmd.find((a) => a.endsWith(".ts"))!), "the CMD's script exists");
  assert.equal(cmd.at(-1), "run");
  assert.equal(one("STOPSIGNAL").args, "SIGTERM");
  assert.ok(exists("node_modules/deno/deno"), "npm ci installs the binary the CMD names");
});

/** The lowest Node major that satisfies an `engines.node` range of `>=` alternatives. */
function minimumNodeMajor(range: string, where: string): number {
  const majors = range.split("||").map((alternative) => {
    const m = alternative.trim().match(/^>=\s*v?(\d+)(\.\d+){0,2}$/);
    assert.ok(m !== null, `${where}: engines.node "${range}" is not a list of >= versions`);
    return Number(m[1]);
  });
  return Math.min(...majors);
}

Deno.test("Dockerfile: the build stage's Node meets engines.node of every package npm ci installs", () => {
  const from = dockerfile.find((i) => i.keyword === "FROM" && i.stage === 0)!;
  const major = Number(from.args.match(/^node:(\d+)-/)?.[1]);
  assert.ok(Number.isInteger(major), `the build stage is a node:<major> image: ${from.args}`);
  const lock = JSON.parse(read("package-lock.json")) as {
    packages: Record<string, { engines?: { node?: string } }>;
  };
  for (const [path, { engines }] of Object.entries(lock.packages)) {
    if (engines?.node === undefined) continue;
    const needed = minimumNodeMajor(engines.node, path);
    assert.ok(
      major >= needed,
      `the build stage runs Node ${major} (${from.args}), but ${
        path.replace(/^node_modules\//, "")
      } declares node ${engines.node}`,
    );
  }
});

Deno.test("Dockerfile: every COPY source exists and .dockerignore keeps it in the context", () => {
  const ignored = read(".dockerignore").split("\n").map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const copy of dockerfile.filter((i) => i.keyword === "COPY" && !i.args.includes("--from"))) {
    const sources = copy.args.split(/\s+/).slice(0, -1);
    for (const source of sources) {
      assert.ok(exists(source), `Dockerfile line ${copy.line}: ${source} exists`);
      const top = source.replace(/\/$/, "").split("/")[0]!;
      // An exception (`!path`) written after the exclusion takes the file back in.
      const excluded = ignored.lastIndexOf(top) > ignored.lastIndexOf(`!${source}`);
      assert.ok(!excluded, `.dockerignore excludes ${top}, which line ${copy.line} copies`);
    }
  }
  assert.ok(ignored.includes("node_modules"), "the host's node_modules never enters the context");
});

Deno.test("Dockerfile: the build step copies every script the bundle's build imports or runs", () => {
  const copied = new Set(
    dockerfile.filter((i) => i.keyword === "COPY" && !i.args.includes("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1)),
  );
  const build = dockerfile.find((i) => i.keyword === "RUN" && i.args.includes("scripts/build.ts"));
  assert.ok(build, "a RUN step runs scripts/build.ts");
  // Local modules a script imports (types too: they must resolve), or names to run (`"x.ts"`).
  const seen = new Set<string>();
  const pending = ["scripts/build.ts"];
  while (pending.length > 0) {
    const script = pending.pop()!;
    if (seen.has(script)) continue;
    seen.add(script);
    for (const [, name] of read(script).matchAll(/["']\.?\.?\/?([\w]+\.ts)["']/g)) {
      if (exists(join("scripts", name!))) pending.push(`scripts/${name}`);
    }
  }
  assert.ok(seen.has("scripts/worker_library.ts") && seen.has("scripts/bun_bundle.ts"));
  for (const script of seen) assert.ok(copied.has(script), `the Dockerfile copies ${script}`);
});

Deno.test("container config: valid, listens on every interface at the exposed port, needs a token", async () => {
  const config = await containerConfig();
  const exposed = Number(one("EXPOSE").args);
  assert.deepEqual(config.http, { host: "0.0.0.0", port: exposed });
  assert.equal(imageEnv.CONSUMERD_CONFIG, "/etc/consumerd/consumers.yaml");
  await assert.rejects(
    () => loadConfigFile(join(ROOT, "deploy", "config", "consumers.yaml"), { env: {} }),
    /CONSUMERD_TOKEN|KAFKA_BROKERS/,
    "without the secret and the brokers the config names what is missing",
  );
  const [consumer] = config.consumers;
  assert.ok(consumer !== undefined);
  assert.equal(dirname(consumer.handler), join(ROOT, "deploy", "config"), "handlers beside it");
  assert.ok(consumer.replicas * manifest("ScaledObject").spec.maxReplicaCount <= partitions);
});

Deno.test("Dockerfile HEALTHCHECK: exec form on /healthz at the exposed port, through deno", () => {
  const { options, rest } = leadingOptions(one("HEALTHCHECK").args);
  assert.match(rest, /^CMD\s+\[/);
  const argv = execForm(one("HEALTHCHECK"), rest.replace(/^CMD\s+/, ""));
  assert.equal(argv[0], "node_modules/deno/deno");
  assert.ok(argv.join(" ").includes(`http://127.0.0.1:${one("EXPOSE").args}/healthz`));
  assert.ok(options["start-period"] !== undefined && options.interval !== undefined);
});

Deno.test("compose.yaml: apache/kafka in KRaft mode, the topic, two consumerd replicas on the config", async () => {
  const { kafka, topics, consumerd } = compose.services;
  const kafkaVersion =
    read("config/kafka/pom.xml").match(/<kafka.version>(.+)<\/kafka.version>/)![1];
  assert.equal(kafka.image, `apache/kafka:${kafkaVersion}`, "the same Kafka as the dev broker");
  assert.equal(topics.image, kafka.image);
  assert.match(kafka.environment.KAFKA_PROCESS_ROLES, /broker/);
  assert.match(kafka.environment.KAFKA_PROCESS_ROLES, /controller/);
  const advertised = String(kafka.environment.KAFKA_ADVERTISED_LISTENERS).replace(/^\w+:\/\//, "");
  assert.equal(consumerd.environment.KAFKA_BROKERS, advertised);
  assert.ok(topics.entrypoint.includes(`${consumerd.environment.KAFKA_BROKERS}`));
  const config = await containerConfig();
  assert.equal(
    topics.entrypoint[topics.entrypoint.indexOf("--topic") + 1],
    config.consumers[0]!.topic,
  );
  assert.equal(consumerd.deploy.replicas, 2);
  // Recent podman-compose (1.6.0) starts `replicas` containers only in replicated mode, the
  // Compose spec's default, which Docker Compose assumes when it is left out.
  assert.equal(consumerd.deploy.mode, "replicated", "podman-compose needs deploy.mode");
  assert.equal(consumerd.build, ".");
  assert.ok(exists("Dockerfile"));
  const [source, target] = String(consumerd.volumes[0]).split(":");
  assert.ok(exists(source!), `${source} exists`);
  assert.equal(target, dirname(imageEnv.CONSUMERD_CONFIG!));
  assert.ok("CONSUMERD_TOKEN" in consumerd.environment);
  const stopS = Number(String(consumerd.stop_grace_period).replace(/s$/, ""));
  assert.ok(stopS * 1000 > config.shutdown.gracePeriodMs, "stop timeout above the drain");
  assert.ok(consumerd.deploy.replicas * config.consumers[0]!.replicas <= partitions);
});

Deno.test("kubernetes: the ConfigMap carries deploy/config/ byte for byte", () => {
  const data = manifest("ConfigMap").data as Record<string, string>;
  const files = [...Deno.readDirSync(join(ROOT, "deploy", "config"))].map((e) => e.name).sort();
  assert.deepEqual(Object.keys(data).sort(), files);
  for (const file of files) assert.equal(data[file], read(`deploy/config/${file}`), file);
});

Deno.test("kubernetes: the Deployment mounts the config directory, probes, drains, and is sized", async () => {
  const config = await containerConfig();
  const pod = deployment.spec.template.spec;
  const env: Record<string, string> = Object.fromEntries(
    container.env.map((e: Yaml) => [e.name, e.value]),
  );
  assert.equal(env.CONSUMERD_CONFIG, imageEnv.CONSUMERD_CONFIG);
  const configMount = container.volumeMounts.find((m: Yaml) =>
    pod.volumes.find((v: Yaml) => v.name === m.name)?.configMap?.name ===
      manifest("ConfigMap").metadata.name
  );
  assert.equal(configMount.mountPath, dirname(env.CONSUMERD_CONFIG!));
  assert.equal(configMount.subPath, undefined, "a directory mount, so reload sees symlink swaps");
  const tmp = container.volumeMounts.find((m: Yaml) => m.mountPath === "/tmp");
  assert.ok(imageEnv.DENO_DIR!.startsWith("/tmp/") && tmp !== undefined, "DENO_DIR is writable");
  const port = container.ports.find((p: Yaml) => p.name === "http");
  assert.equal(port.containerPort, Number(one("EXPOSE").args));
  assert.deepEqual(
    config.http,
    { host: "0.0.0.0", port: port.containerPort },
    "listens where probed",
  );
  assert.deepEqual(
    [container.livenessProbe.httpGet, container.readinessProbe.httpGet],
    [{ path: "/healthz", port: "http" }, { path: "/readyz", port: "http" }],
  );
  assert.ok(pod.terminationGracePeriodSeconds * 1000 > config.shutdown.gracePeriodMs);
  const secret = manifest("Secret");
  assert.equal(container.envFrom[0].secretRef.name, secret.metadata.name);
  assert.ok("CONSUMERD_TOKEN" in secret.stringData, "the token the config asks for");
  const requestMi = Number(String(container.resources.requests.memory).replace(/Mi$/, ""));
  const workers = config.consumers.reduce((n, c) => n + c.replicas, 0);
  assert.ok(
    requestMi >= DENO_BASE_MIB + workers * DENO_PER_WORKER_MIB,
    `${requestMi} Mi covers the measured ${DENO_BASE_MIB} + ${workers} x ${DENO_PER_WORKER_MIB} MiB`,
  );
  assert.equal(
    deployment.spec.strategy.rollingUpdate.maxSurge,
    0,
    "never more members than planned",
  );
});

Deno.test("kubernetes: KEDA scales on the group's lag, capped at partitions / workers per pod", async () => {
  const config = await containerConfig();
  const [consumer] = config.consumers;
  const scaled = manifest("ScaledObject");
  assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
  const [trigger] = scaled.spec.triggers;
  assert.equal(trigger.type, "kafka");
  assert.equal(trigger.metadata.consumerGroup, consumer!.group);
  assert.equal(trigger.metadata.topic, consumer!.topic);
  assert.equal(trigger.metadata.offsetResetPolicy, consumer!.autoOffsetReset);
  const env: Record<string, string> = Object.fromEntries(
    container.env.map((e: Yaml) => [e.name, e.value]),
  );
  assert.equal(trigger.metadata.bootstrapServers, env.KAFKA_BROKERS);
  assert.equal(scaled.spec.maxReplicaCount, Math.floor(partitions / consumer!.replicas));
  assert.ok(scaled.spec.minReplicaCount >= 1);
});

/** The files of a deploy/kubernetes/ directory, but its kustomization.yaml. */
const manifestFiles = (dir: string) =>
  [...Deno.readDirSync(join(ROOT, dir))]
    .filter((e) => e.isFile && e.name !== "kustomization.yaml").map((e) => e.name).sort();

Deno.test("kubernetes: kustomization lists every manifest", () => {
  const kustomization: Yaml = parseYaml(read("deploy/kubernetes/kustomization.yaml"));
  assert.deepEqual([...kustomization.resources].sort(), manifestFiles("deploy/kubernetes"));
});

const STATEFUL = "deploy/kubernetes/statefulset";
const stateful: Yaml[] = manifestFiles(STATEFUL).map((name) =>
  parseYaml(read(`${STATEFUL}/${name}`))
);
const statefulSet = stateful.find((m) => m.kind === "StatefulSet");

Deno.test("kubernetes, StatefulSet variant: the base's config and secret, its own pods and headless Service; no Deployment, no autoscaler", () => {
  const kustomization: Yaml = parseYaml(read(`${STATEFUL}/kustomization.yaml`));
  assert.deepEqual([...kustomization.resources].sort(), ["../", ...manifestFiles(STATEFUL)].sort());
  const deleted = kustomization.patches.map((p: Yaml) => parseYaml(p.patch))
    .map((p: Yaml) => [p.$patch, p.kind, p.metadata.name]);
  assert.deepEqual(deleted, [
    ["delete", "Deployment", deployment.metadata.name],
    ["delete", "ScaledObject", manifest("ScaledObject").metadata.name],
  ]);
  const service = stateful.find((m) => m.kind === "Service");
  assert.equal(statefulSet.spec.serviceName, service.metadata.name);
  assert.equal(service.spec.clusterIP, "None", "headless: it only names the pods");
  assert.deepEqual(service.spec.selector, statefulSet.spec.template.metadata.labels);
  assert.deepEqual(
    statefulSet.spec.selector.matchLabels,
    statefulSet.spec.template.metadata.labels,
  );
});

Deno.test("kubernetes, StatefulSet variant: the Deployment's pod, plus the pod name as kafka.instanceId on the platformatic engine", async () => {
  const pod = structuredClone(statefulSet.spec.template);
  const own = ["CONSUMERD_INSTANCE_ID", "CONSUMERD_ENGINE", "CONSUMERD_GROUP_PROTOCOL"];
  const [stsContainer] = pod.spec.containers;
  const added = stsContainer.env.filter((e: Yaml) => own.includes(e.name));
  stsContainer.env = stsContainer.env.filter((e: Yaml) => !own.includes(e.name));
  assert.deepEqual(pod, deployment.spec.template, "the same pod but for its membership");
  const name = added.find((e: Yaml) => e.name === "CONSUMERD_INSTANCE_ID");
  assert.equal(name.valueFrom.fieldRef.fieldPath, "metadata.name");
  const env = Object.fromEntries(
    added.filter((e: Yaml) => "value" in e).map((e: Yaml) => [e.name, e.value]),
  );
  const config = await containerConfig({ ...env, CONSUMERD_INSTANCE_ID: "consumerd-0" });
  assert.deepEqual(
    [config.kafka.instanceId, config.kafka.engine, config.kafka.groupProtocol],
    ["consumerd-0", "platformatic", "consumer"],
  );
  const [consumer] = config.consumers;
  assert.ok(statefulSet.spec.replicas * consumer!.replicas <= partitions, "members <= partitions");
  const dynamic = await containerConfig();
  assert.deepEqual(
    [dynamic.kafka.instanceId, dynamic.kafka.engine, dynamic.kafka.groupProtocol],
    ["", "kafkajs", "classic"],
    "compose and the Deployment: dynamic members of a classic group, as before",
  );
});
