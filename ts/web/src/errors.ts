// Error codes: the relay gives every failure a code from the contract's ErrorCode beside its
// message for people, and the UI decides on the code only.

import type { ErrorCode } from "@pizzapi/protocol";
import { member, str } from "./read";

/**
 * The code of a socket.io `connect_error`: the relay sends its ErrorMessage as the error's `data`.
 * Undefined for a transport failure, which has no data.
 */
export function connectErrorCode(e: Error): ErrorCode | undefined {
  return str(member(member(e, "data"), "code")) as ErrorCode | undefined;
}
