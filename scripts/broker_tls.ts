/**
 * The development broker's TLS material: a private CA and a broker certificate it signed, made
 * with Java's `keytool` (Java is already required) the first time the broker starts, and kept in
 * the broker's state directory. Clients get only the CA certificate (`ca.pem`); both private keys
 * stay in their keystores there.
 *
 * @module
 */
import { join } from "node:path";

/** Where {@linkcode ensureBrokerTls} keeps its files, inside the broker's state directory. */
export interface BrokerTls {
  /** PEM text file of the CA certificate: what a client puts in `kafka.ssl.ca`. */
  caPem: string;
  /** The broker's PKCS#12 keystore: its key and its certificate chain (broker, CA). */
  keystore: string;
  /** The password of both keystores (they never leave the state directory). */
  keystorePassword: string;
}

/** The keystores' password; they protect development keys only and stay in the state directory. */
const KEYSTORE_PASSWORD = "consumerd-dev";
/** Ten years: a development broker's certificates should not expire under it. */
const VALIDITY_DAYS = "3650";
/** keytool is a short-lived JVM: its quick compiler and small collector start it faster. */
const QUICK_JVM = ["-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC"];

/** The files of the TLS material in `dir` (whether or not they exist yet). */
export function brokerTlsFiles(dir: string): BrokerTls {
  return {
    caPem: join(dir, "ca.pem"),
    keystore: join(dir, "broker.p12"),
    keystorePassword: KEYSTORE_PASSWORD,
  };
}

/**
 * The certificate's subject alternative names for a broker listening on `host`: the loopback
 * names always, and `host` itself.
 *
 * @example
 * ```ts
 * subjectAltNames("10.0.0.5"); // "ip:127.0.0.1,dns:localhost,ip:10.0.0.5"
 * ```
 */
export function subjectAltNames(host: string): string {
  const names = ["ip:127.0.0.1", "dns:localhost"];
  const own = /^[\d.]+$/.test(host) || host.includes(":") ? `ip:${host}` : `dns:${host}`;
  if (!names.includes(own)) names.push(own);
  return names.join(",");
}

/**
 * Makes the CA and the broker's keystore in `dir` unless they exist for these names already
 * (a changed `host` makes them anew). Returns where they are.
 */
export async function ensureBrokerTls(dir: string, { host }: { host: string }): Promise<BrokerTls> {
  const files = brokerTlsFiles(dir);
  const names = subjectAltNames(host);
  const namesFile = join(dir, "names");
  const current = await Deno.readTextFile(namesFile).catch(() => null);
  if (current === names && await isFile(files.keystore) && await isFile(files.caPem)) return files;
  const tmp = `${dir}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    await makeTls(tmp, names);
    await Deno.writeTextFile(join(tmp, "names"), names);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, dir);
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
  return files;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The keytool runs: two key pairs at once, the CA signs the broker's request, the chain goes in. */
async function makeTls(dir: string, names: string): Promise<void> {
  const store = (file: string) => [
    "-keystore",
    file,
    "-storetype",
    "PKCS12",
    "-storepass",
    KEYSTORE_PASSWORD,
  ];
  const keyPair = (alias: string, subject: string, extra: string[]) => [
    "-genkeypair",
    "-alias",
    alias,
    "-keyalg",
    "EC",
    "-groupname",
    "secp256r1",
    "-dname",
    subject,
    "-validity",
    VALIDITY_DAYS,
    ...extra,
  ];
  const ca = [...store("ca.p12"), "-alias", "ca"];
  await Promise.all([
    keytool(dir, [
      ...keyPair("ca", "CN=consumerd development CA", [
        "-ext",
        "BasicConstraints:critical=ca:true",
        "-ext",
        "KeyUsage:critical=keyCertSign,cRLSign",
      ]),
      ...store("ca.p12"),
    ]),
    (async () => {
      await keytool(dir, [...keyPair("broker", "CN=localhost", []), ...store("broker.p12")]);
      await keytool(dir, [
        "-certreq",
        "-alias",
        "broker",
        "-file",
        "broker.csr",
        ...store("broker.p12"),
      ]);
    })(),
  ]);
  await Promise.all([
    keytool(dir, ["-exportcert", "-rfc", "-file", "ca.pem", ...ca]),
    keytool(dir, [
      "-gencert",
      "-rfc",
      "-infile",
      "broker.csr",
      "-outfile",
      "broker.pem",
      "-validity",
      VALIDITY_DAYS,
      "-ext",
      `SubjectAlternativeName=${names}`,
      "-ext",
      "KeyUsage:critical=digitalSignature",
      "-ext",
      "ExtendedKeyUsage=serverAuth",
      ...ca,
    ]),
  ]);
  // The broker sends its whole chain: a client that trusts another CA is told of a self-signed
  // certificate in the chain, as with a real cluster's private CA.
  const chain = (await Deno.readTextFile(join(dir, "broker.pem"))) +
    (await Deno.readTextFile(join(dir, "ca.pem")));
  await Deno.writeTextFile(join(dir, "chain.pem"), chain);
  await keytool(dir, [
    "-importcert",
    "-noprompt",
    "-alias",
    "broker",
    "-file",
    "chain.pem",
    ...store("broker.p12"),
  ]);
  for (const scratch of ["broker.csr", "broker.pem", "chain.pem"]) {
    await Deno.remove(join(dir, scratch));
  }
}

async function keytool(cwd: string, args: string[]): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("keytool", {
      args: [...QUICK_JVM, ...args],
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(
      `Cannot make the development broker's TLS certificates as \`keytool\` (part of Java) ` +
        `could not be run: ${(error as Error).message}`,
    );
  }
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new Error(
      `Cannot make the development broker's TLS certificates as \`keytool ${
        args[0]
      }\` failed:\n${text.trim()}`,
    );
  }
}
