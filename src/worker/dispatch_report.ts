/**
 * The `dispatch` report of a worker with `ordering: key` or `none`: calls
 * in flight, buffered messages and paused keys, posted when they changed.
 *
 * @module
 */
import type { DispatchState } from "../protocol.ts";
import type { Dispatcher } from "./dispatcher.ts";

/**
 * Takes the dispatcher's state for the periodic report, or null when it did
 * not change since the last one.
 *
 * @example
 * ```ts ignore
 * const report = new DispatchReport();
 * const state = report.take(dispatcher); // posted as { type: "dispatch", state } unless null
 * ```
 */
export class DispatchReport {
  #last = "";

  /** The state now, or null when it is what the last call returned. */
  take(dispatcher: Pick<Dispatcher, "inFlight" | "buffered" | "pausedKeys">): DispatchState | null {
    const { count, keys } = dispatcher.pausedKeys();
    const state: DispatchState = {
      inFlight: dispatcher.inFlight,
      buffered: dispatcher.buffered,
      pausedKeys: count,
      paused: keys,
    };
    const text = JSON.stringify(state);
    if (text === this.#last) return null;
    this.#last = text;
    return state;
  }
}
