// Readers for the open parts of the contract: agent events are `{type, [key]: unknown}` beyond the
// few fields the relay inspects, so the UI narrows what it shows at run time.

/** A JSON object whose members are not known in advance. */
export type Obj = { readonly [key: string]: unknown };

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The member `key` of v when v is an object. */
export function member(v: unknown, key: string): unknown {
  return isObj(v) ? v[key] : undefined;
}
