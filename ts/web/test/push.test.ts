import { describe, expect, it } from "vitest";
import { base64UrlBytes, decodeKinds, encodeKinds } from "../src/push/push";

describe("push kinds", () => {
  it("encodes a choice as enabledEvents, every kind as *", () => {
    expect(encodeKinds(["agent_error", "agent_finished"])).toBe("agent_finished,agent_error");
    expect(encodeKinds(["session_ended", "session_started", "agent_error", "agent_needs_input", "agent_finished"])).toBe("*");
    expect(encodeKinds([])).toBe("");
  });
  it("decodes enabledEvents as the relay stores or PizzaPi wrote them", () => {
    expect(decodeKinds("*")).toHaveLength(5);
    expect(decodeKinds(" agent_error , agent_finished")).toEqual(["agent_finished", "agent_error"]);
    expect(decodeKinds("AGENT_ERROR,bogus")).toEqual([]);
  });
});

describe("base64UrlBytes", () => {
  it("decodes URL-safe base64 with or without padding", () => {
    expect([...base64UrlBytes("_-8")]).toEqual([255, 239]);
    expect([...base64UrlBytes("_-8=")]).toEqual([255, 239]);
    expect(base64UrlBytes("B".padEnd(87, "A"))).toHaveLength(65);
  });
});
