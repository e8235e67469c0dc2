/**
 * `consumerd status`: a running daemon's `/status` as a table, or as JSON.
 *
 * @module
 */
import type { StatusBody } from "../http/status_body.ts";
import type { CommandOutput } from "./check.ts";
import { readDaemonStatus } from "./daemon_status.ts";
import { formatTable } from "./table.ts";

/** Options for {@linkcode statusCommand}. */
export interface StatusCommandOptions extends CommandOutput {
  /** The daemon's status server, e.g. `http://127.0.0.1:9464`. */
  url: string;
  json: boolean;
  /** Sent as `Authorization: Bearer …` when set. */
  token?: string | undefined;
}

const sum = (values: Array<string | null>) => {
  const known = values.filter((v): v is string => v !== null);
  return known.length === 0 ? "-" : String(known.reduce((a, v) => a + BigInt(v), 0n));
};

/** The table of a `/status` document: one line per consumer and partition. */
export function formatStatus(status: StatusBody): string {
  const rows: string[][] = [];
  for (const c of status.consumers) {
    rows.push([
      c.name,
      c.state,
      c.partitions.length === 0 ? "-" : "all",
      sum(c.partitions.map((p) => p.committed)),
      sum(c.partitions.map((p) => p.highWatermark)),
      sum(c.partitions.map((p) => p.lag)),
      String(c.restarts),
      c.reason ?? "",
    ]);
    for (const p of c.partitions) {
      const paused = c.paused.find((x) => x.partition === p.partition);
      const keys = c.dispatch?.paused.filter((k) => k.partition === p.partition) ?? [];
      rows.push([
        "",
        "",
        String(p.partition),
        p.committed ?? "-",
        p.highWatermark ?? "-",
        p.lag ?? "-",
        "",
        paused
          ? `paused: ${paused.reason}`
          : keys.map((k) =>
            `key ${
              k.key === null ? "(none)" : JSON.stringify(k.key)
            } paused at ${k.offset}: ${k.reason}`
          ).join("; "),
      ]);
    }
  }
  const reload = status.config.lastReload;
  const head = `config ${status.config.path} (revision ${status.config.revision}${
    reload ? `, last reload ${reload.at} ${reload.ok ? "ok" : "FAILED"}` : ""
  })`;
  return `${head}\n${
    formatTable(
      [
        "CONSUMER",
        "STATE",
        "PARTITION",
        "COMMITTED",
        "HIGH-WATERMARK",
        "LAG",
        "RESTARTS",
        "REASON",
      ],
      rows,
    )
  }`;
}

/** Fetches `/status` and prints it; resolves to the exit code. */
export async function statusCommand(options: StatusCommandOptions): Promise<number> {
  const { url, json, token, out = console.log, err = console.error } = options;
  const answer = await readDaemonStatus(url, token);
  const target = new URL("status", url.endsWith("/") ? url : `${url}/`).href;
  if (answer.kind === "absent") {
    err(
      `error: cannot reach the daemon at ${target}: ${answer.reason} ` +
        `(is it running, and is http.listen ${new URL(url).host}?)`,
    );
    return 1;
  }
  if (answer.kind === "failed") {
    err(`error: ${target}: ${answer.reason}`);
    return 1;
  }
  const status = answer.body as StatusBody;
  out(json ? JSON.stringify(status, null, 2) : formatStatus(status));
  return 0;
}
