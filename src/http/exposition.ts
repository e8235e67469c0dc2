/**
 * Prometheus's text exposition format (version 0.0.4): metric families with
 * HELP and TYPE lines, escaped label values. Pure.
 *
 * @module
 */

/** The content type of the text format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names to values. */
export type Labels = Record<string, string>;

/** One sample: its name suffix (for histograms), labels and value. */
export interface Sample {
  /** Appended to the family name, e.g. `_bucket`; empty for plain samples. */
  suffix?: string;
  labels: Labels;
  /** A number, or a decimal integer string (offsets beyond 2^53 stay exact in the text). */
  value: number | string;
}

/** A metric family. */
export interface MetricFamily {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: Sample[];
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number | string): string {
  if (typeof value === "string") return value;
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/**
 * Renders metric families as Prometheus text. Families without samples are
 * left out whole (no HELP/TYPE for series that do not exist).
 *
 * @example
 * ```ts
 * renderExposition([{ name: "x_total", help: "X.", type: "counter", samples: [{ labels: {}, value: 1 }] }]);
 * // "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n"
 * ```
 */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const s of family.samples) {
      lines.push(
        `${family.name}${s.suffix ?? ""}${formatLabels(s.labels)} ${formatValue(s.value)}`,
      );
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
