/**
 * Picks a consumer's session: its engine (kafkajs or @platformatic/kafka)
 * and mode. Each engine's modules are loaded only when a worker uses it, so
 * that a worker carries one client library, not both.
 *
 * @module
 */
import type { Engine } from "../config/types.ts";
import type { ConsumerSession, SessionOptions } from "./session.ts";

/**
 * Loads the client library and session code of `engine` in `mode`, so that
 * a worker pays for it while it starts (under its start-up deadline), not
 * at its first connect.
 *
 * @example
 * ```ts ignore
 * await loadEngine("platformatic", "balanced");
 * ```
 */
export async function loadEngine(engine: Engine, mode: "balanced" | "simple"): Promise<void> {
  if (engine === "platformatic") {
    await import("./platformatic/session.ts");
    const { loadPlatformatic } = await import("./platformatic/library.ts");
    await loadPlatformatic();
  } else if (mode === "simple") await import("./kafkajs/simple_session.ts");
  else await import("./kafkajs/balanced_session.ts");
}

/**
 * Starts a session of `engine` in `mode`.
 *
 * @example
 * ```ts ignore
 * const session = await startSession("platformatic", "balanced", options);
 * ```
 */
export async function startSession(
  engine: Engine,
  mode: "balanced" | "simple",
  options: SessionOptions,
): Promise<ConsumerSession> {
  if (engine === "platformatic") {
    const { startPlatformaticSession } = await import("./platformatic/session.ts");
    return await startPlatformaticSession(options, mode);
  }
  if (mode === "simple") {
    const { startSimpleSession } = await import("./kafkajs/simple_session.ts");
    return await startSimpleSession(options);
  }
  const { startBalancedSession } = await import("./kafkajs/balanced_session.ts");
  return await startBalancedSession(options);
}
