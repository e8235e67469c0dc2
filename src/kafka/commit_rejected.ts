/**
 * Commits that Kafka refuses for good: trying again cannot succeed until an
 * operator changes something (an ACL, or the group's other members), so the
 * consumer must report it instead of committing in vain.
 *
 * @module
 */

/** Kafka errors that refuse a commit for lack of rights. */
const AUTHORIZATION = new Set(["GROUP_AUTHORIZATION_FAILED", "TOPIC_AUTHORIZATION_FAILED"]);
/** Kafka errors that refuse a commit sent without membership (generation -1): the group has members. */
const MEMBERS = new Set(["ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"]);

/**
 * Kafka refused a commit for a reason that trying again cannot fix.
 * Sessions reject `commit()` and `begin()` with it, and report an auto
 * commit refused so through `onFatal`.
 */
export class CommitRejectedError extends Error {
  override name = "CommitRejectedError";
  /** Never worth trying again (read by `toErrorData`). */
  readonly retriable = false;
}

/**
 * Kafka refused a commit's metadata as longer than the broker's
 * `offset.metadata.max.bytes`: the same offsets with shorter metadata are
 * accepted.
 */
export class MetadataTooLargeError extends Error {
  override name = "MetadataTooLargeError";
  readonly retriable = false;
}

/** Kafka's name for a commit whose metadata is too long. */
const METADATA_TOO_LARGE = "OFFSET_METADATA_TOO_LARGE";

/**
 * The error to report when Kafka answered a commit with `errorIds` (its
 * error names, e.g. `"GROUP_AUTHORIZATION_FAILED"`), or null when trying
 * again may succeed. Metadata too long is a {@linkcode MetadataTooLargeError}. A commit `withoutMembership` (simple mode) is refused
 * for good when the group has members; in a member's commit the same
 * errors mean a rebalance, which passes.
 *
 * @example
 * ```ts
 * import { commitRejection } from "./commit_rejected.ts";
 * commitRejection(["GROUP_AUTHORIZATION_FAILED"], { group: "g", withoutMembership: false });
 * // CommitRejectedError: Cannot commit offsets for group "g": not authorized (GROUP_AUTHORIZATION_FAILED); …
 * commitRejection(["REBALANCE_IN_PROGRESS"], { group: "g", withoutMembership: false }); // null
 * ```
 */
export function commitRejection(
  errorIds: readonly string[],
  { group, withoutMembership, cause }: {
    group: string;
    withoutMembership: boolean;
    cause?: unknown;
  },
): CommitRejectedError | MetadataTooLargeError | null {
  if (errorIds.includes(METADATA_TOO_LARGE)) {
    return new MetadataTooLargeError(
      `Cannot commit offsets for group "${group}": the broker refused the commit's metadata as ` +
        `too long (${METADATA_TOO_LARGE}; see its offset.metadata.max.bytes)`,
      { cause },
    );
  }
  const denied = errorIds.find((id) => AUTHORIZATION.has(id));
  if (denied !== undefined) {
    return new CommitRejectedError(
      `Cannot commit offsets for group "${group}": not authorized (Kafka answered ${denied}); ` +
        "the client's principal needs Read on the group and on the topic",
      { cause },
    );
  }
  const members = withoutMembership ? errorIds.find((id) => MEMBERS.has(id)) : undefined;
  if (members !== undefined) {
    return new CommitRejectedError(
      `Cannot commit offsets for group "${group}" without membership: the group has active ` +
        `members (Kafka rejected the commit with ${members}); a simple-mode consumer needs a group ` +
        "that no balanced consumer uses",
      { cause },
    );
  }
  return null;
}
