/**
 * How the platformatic engine joins a group with the classic protocol: the
 * group settings of a member, and the options of the library's
 * `joinGroup()` that carry its revoke hook.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { GroupOptions } from "@platformatic/kafka";

/** The user data of the group protocol's subscription: none. */
const EMPTY: Buffer = Buffer.alloc(0);

/** Group settings of a balanced-mode consumer that joins with the classic protocol. */
export interface GroupSettings {
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Awaited before every (re)join once the member {@linkcode joined}: the revoke hook. */
  beforeJoin: () => Promise<void>;
  /** Whether the member was ever assigned partitions: before that, `beforeJoin` has nothing to do. */
  joined: () => boolean;
}

/**
 * The options of the library's `joinGroup()`: `settings.beforeJoin` as the
 * `protocolsMetadata` the library awaits before every join attempt, once the
 * member has joined. The library reads the property at each attempt, and a
 * function there costs a forced Metadata request first; a member's first
 * join (two attempts: the broker asks for a member id first) has nothing to
 * revoke, and its metadata was loaded when the client was created.
 */
export function joinOptions(settings: GroupSettings): GroupOptions {
  const hook = async () => {
    await settings.beforeJoin();
    return EMPTY;
  };
  // Undefined (no hook) is what the library reads for an absent property.
  return {
    get protocolsMetadata() {
      return settings.joined() ? hook : undefined;
    },
  } as GroupOptions;
}
